//go:build linux

package supervise_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/sim"
	"github.com/graceful-sh/graceful/engine/supervise"
	"github.com/graceful-sh/graceful/internal/startsignals"
)

// childEnv makes the test binary run aheadChild instead of the tests.
const childEnv = "GRACEFUL_SUPERVISE_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode == "early" {
		earlyChild()
		os.Exit(0)
	} else if mode != "" {
		aheadChild(mode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// aheadChild catches SIGHUP ahead, then either releases the catch or
// gives it to a Run whose plan does not name SIGHUP, and sends itself
// SIGHUP: it must die of it, the signal's default action in a Go program.
func aheadChild(mode string) {
	a := supervise.CatchAhead("SIGHUP")
	<-a.Done()
	raise := func() {
		_ = syscall.Kill(os.Getpid(), syscall.SIGHUP)
		time.Sleep(2 * time.Second) // the signal ends us long before
	}
	switch mode {
	case "release":
		a.Release()
		raise()
	case "run":
		p := &engine.Profile{Name: "child", Deadline: time.Second}
		_, _ = supervise.Run(context.Background(), supervise.Spec{
			Profile: p,
			Signals: supervise.Plan{Deliver: []string{"SIGUSR1"}},
			Ahead:   a,
			Start: func() (supervise.Job, error) {
				raise()
				return nil, errors.New("still alive")
			},
		})
	}
	fmt.Println("survived SIGHUP")
}

// earlyChild is started with a run command line's arguments, so the base
// signals were caught during initialisation (internal/startsignals). A
// SIGTERM sent before CatchAhead takes that catch over reaches the Run's
// engine, once.
func earlyChild() {
	<-startsignals.Caught()
	_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	// Time for os/signal to hand it to the only channel there is yet.
	time.Sleep(100 * time.Millisecond)
	a := supervise.CatchAhead(supervise.BaseSignals()...)
	_, _, _, left := startsignals.Take()
	<-a.Ready()
	p := &engine.Profile{
		Name:     "early",
		Triggers: map[string][]engine.Action{"SIGTERM": {engine.ActionCancel}},
		Steps:    []engine.Step{{Name: "stop", Kind: engine.StepSignal, Signal: "SIGTERM", Scope: engine.ScopeGroup}},
		Deadline: 5 * time.Second,
	}
	b, err := sim.ParseBehaviour("exits-on-term")
	if err != nil {
		fmt.Println(err)
		return
	}
	var closed atomic.Int32
	// A lost SIGTERM leaves the job running: the run is cut off then.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := supervise.Run(ctx, supervise.Spec{
		Profile: p,
		Signals: supervise.ProfilePlan(p),
		Ahead:   a,
		Start: func() (supervise.Job, error) {
			return simJob{sim.NewJob(b, engine.RealClock{}), &closed}, nil
		},
	})
	fmt.Printf("left=%v outcome=%s reason=%q err=%v\n", left, res.Outcome, res.Reason, err)
}

// A run command line's first signals are caught during initialisation;
// the run's catch ahead takes them over (nothing is left behind to catch
// them twice), and a signal that arrives in between is not lost.
func TestAheadTakesOverTheCatchBegunAtInit(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "run", "--", "job")
	cmd.Env = append(os.Environ(), childEnv+"=early")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v, output %q", err, out)
	}
	if want := `left=false outcome=cancelled reason="signal SIGTERM #1" err=<nil>`; !strings.Contains(string(out), want) {
		t.Errorf("child output %q, want %q", out, want)
	}
}

// The signals caught during initialisation are the base signals, which
// internal/startsignals lists by number (it imports nothing of ours).
func TestStartSignalsAreTheBaseSignals(t *testing.T) {
	var want []syscall.Signal
	for _, name := range supervise.BaseSignals() {
		want = append(want, syscall.Signal(engine.SignalNumber(name)))
	}
	got := startsignals.Base()
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("startsignals.Base() = %v, supervise.BaseSignals() = %v", got, want)
	}
}

// A signal caught ahead that nobody takes over, or that the Run's plan
// does not name, gets its default action back: catching ahead must not
// leave a signal swallowed that the plan would have left alone.
func TestAheadGivesBackWhatThePlanDoesNotCatch(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"release", "run"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+mode)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("child: %v, output %q; want death by SIGHUP", err, out)
			}
			ws := ee.Sys().(syscall.WaitStatus)
			if !ws.Signaled() || ws.Signal() != syscall.SIGHUP {
				t.Fatalf("child ended with %v, output %q; want death by SIGHUP", ee, out)
			}
		})
	}
}

// A signal that arrives after the catch ahead and before Run exists
// reaches the engine once it does, like one that arrives during Run's own
// start.
func TestAheadSignalBeforeRunReachesTheEngine(t *testing.T) {
	p := usr1Cancels("ahead")
	a := supervise.CatchAhead("SIGUSR1")
	<-a.Done()
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	var closed atomic.Int32
	start := startSim(t, "exits-on-term", &closed)
	res, err := supervise.Run(context.Background(), supervise.Spec{
		Profile: p,
		Signals: supervise.Plan{Deliver: []string{"SIGUSR1"}},
		Ahead:   a,
		Start: func() (supervise.Job, error) {
			<-a.Ready()
			return start()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != engine.OutcomeCancelled || res.Reason != "signal SIGUSR1 #1" {
		t.Errorf("result %s %q, want cancelled by SIGUSR1 #1", res.Outcome, res.Reason)
	}
	a.Release() // taken by Run: nothing to do
}

// Ready waits for what was added with Add only; Done for everything.
func TestAheadReadyAndDone(t *testing.T) {
	a := supervise.CatchAhead("SIGUSR1")
	ready := a.Ready()
	a.AddDuringStart("SIGUSR2")
	if a.Ready() != ready {
		t.Error("AddDuringStart changed what Ready waits for")
	}
	if a.Done() == ready {
		t.Error("Done does not wait for the signals added during start")
	}
	<-a.Done()
	select {
	case <-ready:
	default:
		t.Error("Done is closed, Ready is not")
	}
	a.Add("SIGHUP")
	if a.Ready() == ready {
		t.Error("Add did not move Ready to its signals")
	}
	<-a.Ready()
	a.Release()
}
