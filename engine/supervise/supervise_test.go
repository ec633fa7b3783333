//go:build linux

package supervise_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/sim"
	"github.com/graceful-sh/graceful/engine/supervise"
)

// simJob is a simulated job as a supervise.Job; it counts Close calls.
type simJob struct {
	*sim.Job
	closed *atomic.Int32
}

func (j simJob) Close() error { j.closed.Add(1); return nil }

func startSim(t *testing.T, behaviour string, closed *atomic.Int32) func() (supervise.Job, error) {
	t.Helper()
	b, err := sim.ParseBehaviour(behaviour)
	if err != nil {
		t.Fatal(err)
	}
	return func() (supervise.Job, error) {
		return simJob{sim.NewJob(b, engine.RealClock{}), closed}, nil
	}
}

func TestProfilePlan(t *testing.T) {
	p := &engine.Profile{Triggers: map[string][]engine.Action{
		"SIGURG": {engine.ActionCancel}, "SIGPROF": {engine.ActionCancel},
		"SIGKILL": {engine.ActionCancel}, "SIGUSR1": {engine.ActionForward},
		"SIGWINCH": {engine.ActionForward},
	}}
	plan := supervise.ProfilePlan(p)
	for _, name := range []string{"SIGUSR1", "SIGWINCH", "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"} {
		if !slices.Contains(plan.Deliver, name) {
			t.Errorf("%s not caught from the start: %v", name, plan.Deliver)
		}
	}
	for _, name := range []string{"SIGURG", "SIGPROF", "SIGKILL"} {
		if slices.Contains(plan.Deliver, name) || slices.Contains(plan.Late, name) {
			t.Errorf("%s caught: deliver %v, late %v", name, plan.Deliver, plan.Late)
		}
	}
	if slices.Contains(plan.Late, "SIGUSR1") || !slices.Contains(plan.Late, "SIGUSR2") || slices.Contains(plan.Late, "SIGSEGV") {
		t.Errorf("late %v: want the Late signals the profile does not name", plan.Late)
	}
	if !slices.Contains(plan.Deliver, "SIGSEGV") || !slices.Contains(plan.Deliver, "SIGABRT") {
		t.Errorf("deliver %v: want the Fault signals from the start", plan.Deliver)
	}
	if supervise.ReservedReason("SIGURG") == "" || supervise.ReservedReason("SIGTERM") != "" {
		t.Error("ReservedReason")
	}
}

// SIGURG is the Go runtime's preemption signal: a profile naming it must
// not see it, whether the runtime sends it to itself or someone else does.
// usr1Cancels is a profile whose SIGUSR1 cancels: SIGTERM to the group.
func usr1Cancels(name string) *engine.Profile {
	return &engine.Profile{
		Name:     name,
		Triggers: map[string][]engine.Action{"SIGUSR1": {engine.ActionCancel}},
		Steps:    []engine.Step{{Name: "stop", Kind: engine.StepSignal, Signal: "SIGTERM", Scope: engine.ScopeGroup}},
		Deadline: 5 * time.Second,
	}
}

func TestReservedSignalNeverReachesTheEngine(t *testing.T) {
	p := &engine.Profile{
		Name:     "urg",
		Triggers: map[string][]engine.Action{"SIGURG": {engine.ActionCancel}, "SIGUSR2": {engine.ActionIgnore}},
		Steps:    []engine.Step{{Name: "stop", Kind: engine.StepSignal, Signal: "SIGTERM", Scope: engine.ScopeGroup}},
		Deadline: 5 * time.Second,
	}
	var closed atomic.Int32
	var eng *engine.Engine
	sent := make(chan struct{})
	res, err := supervise.Run(context.Background(), supervise.Spec{
		Profile: p,
		Signals: supervise.ProfilePlan(p),
		Start:   startSim(t, "exits-at=500ms", &closed),
		Started: func(_ supervise.Job, e *engine.Engine) {
			eng = e
			go func() {
				defer close(sent)
				for range 5 {
					_ = syscall.Kill(syscall.Getpid(), syscall.SIGURG)
					time.Sleep(20 * time.Millisecond)
				}
			}()
		},
	})
	<-sent
	if err != nil {
		t.Fatal(err)
	}
	if eng == nil {
		t.Fatal("Started was not called")
	}
	if res.Outcome != engine.OutcomeExited || res.Reason != "" {
		t.Errorf("outcome %s (reason %q), want exited: SIGURG reached the engine", res.Outcome, res.Reason)
	}
	if closed.Load() != 1 {
		t.Errorf("Close called %d times, want 1", closed.Load())
	}
}

// The signals of the plan feed the engine, the timeout and the Cancel
// channel cancel it, and the job is closed once.
func TestRunFeedsTheEngine(t *testing.T) {
	p := usr1Cancels("feed")
	cases := []struct {
		name   string
		spec   func(*supervise.Spec)
		reason string
		status int
	}{
		{"signal", func(s *supervise.Spec) {
			s.Signals = supervise.Plan{Deliver: []string{"SIGUSR1"}}
			s.Started = func(supervise.Job, *engine.Engine) {
				time.AfterFunc(50*time.Millisecond, func() { _ = syscall.Kill(syscall.Getpid(), syscall.SIGUSR1) })
			}
		}, "signal SIGUSR1 #1", 143},
		{"timeout", func(s *supervise.Spec) { s.Timeout = 50 * time.Millisecond }, engine.CauseTimeout, 124},
		{"cancel channel", func(s *supervise.Spec) {
			ch := make(chan string, 1)
			ch <- engine.CauseAPI
			s.Cancel = ch
		}, engine.CauseAPI, 143},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var closed atomic.Int32
			s := supervise.Spec{Profile: p, Start: startSim(t, "exits-on-term", &closed)}
			tc.spec(&s)
			res, err := supervise.Run(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != engine.OutcomeCancelled || res.Reason != tc.reason || res.Status != tc.status {
				t.Errorf("result %s %q %d, want cancelled %q %d", res.Outcome, res.Reason, res.Status, tc.reason, tc.status)
			}
			if closed.Load() != 1 {
				t.Errorf("Close called %d times", closed.Load())
			}
		})
	}
}

// Settle runs once the job has run SettleAfter, and never for a shorter run.
func TestSettle(t *testing.T) {
	p := &engine.Profile{Name: "settle", Deadline: 5 * time.Second}
	for _, tc := range []struct {
		job  string
		want int32
	}{{"exits-at=10ms", 0}, {"exits-at=500ms", 1}} {
		var closed, settled atomic.Int32
		_, err := supervise.Run(context.Background(), supervise.Spec{
			Profile: p,
			Start:   startSim(t, tc.job, &closed),
			Settle:  func() { settled.Add(1) },
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := settled.Load(); got != tc.want {
			t.Errorf("%s: Settle called %d times, want %d", tc.job, got, tc.want)
		}
	}
}

// Urgent runs once the timeline's steps are near, never for a run that
// is not cancelled: after the events of the pass that began the
// cancellation (that pass sent the first cancelling signal), or
// UrgentLead before the timeout; once, though both ask.
func TestUrgent(t *testing.T) {
	p := &engine.Profile{Name: "urgent", Deadline: 5 * time.Second, Steps: []engine.Step{
		{Name: "interrupt", Kind: engine.StepSignal, Signal: "SIGTERM", Scope: engine.ScopeGroup},
		{Name: "kill", At: 200 * time.Millisecond, Kind: engine.StepSignal, Signal: "SIGKILL", Scope: engine.ScopeTree},
	}}
	for _, tc := range []struct {
		name   string
		job    string
		spec   func(*supervise.Spec)
		want   int
		before bool // called before the first event of the cancellation
	}{
		{"not cancelled", "exits-at=300ms", func(*supervise.Spec) {}, 0, false},
		{"cancelled", "ignores-term", func(s *supervise.Spec) {
			c := make(chan string, 1)
			time.AfterFunc(100*time.Millisecond, func() { c <- "test" })
			s.Cancel = c
		}, 1, false},
		{"timeout", "ignores-term", func(s *supervise.Spec) { s.Timeout = 300 * time.Millisecond }, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				mu     sync.Mutex
				log    []string
				closed atomic.Int32
			)
			note := func(s string) {
				mu.Lock()
				log = append(log, s)
				mu.Unlock()
			}
			s := supervise.Spec{
				Profile: p,
				Start:   startSim(t, tc.job, &closed),
				Sinks: []engine.Sink{engine.SinkFunc(func(e engine.Event) {
					if e.Cancelled {
						note(e.Cause + ": " + e.Action)
					}
				})},
				Urgent: func() { note("urgent") },
			}
			tc.spec(&s)
			if _, err := supervise.Run(context.Background(), s); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			at := slices.Index(log, "urgent")
			if n := len(slices.DeleteFunc(slices.Clone(log), func(s string) bool { return s != "urgent" })); n != tc.want {
				t.Fatalf("Urgent called %d times, want %d: %q", n, tc.want, log)
			}
			if tc.want == 0 {
				return
			}
			signalled := slices.Index(log, "step interrupt: signal SIGTERM")
			if signalled < 0 {
				t.Fatalf("no interrupt step among %q", log)
			}
			if tc.before != (at < signalled) {
				t.Errorf("Urgent called at %d of %q, want before the interrupt step: %v", at, log, tc.before)
			}
			if killed := slices.Index(log, "step kill: signal SIGKILL"); killed < at {
				t.Errorf("Urgent called at %d of %q, after the kill step", at, log)
			}
		})
	}
}
