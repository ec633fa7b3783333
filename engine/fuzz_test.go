package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/sim"
)

// scenario builds a random profile, job and inputs from a seed.
func scenario(seed uint64) (*engine.Profile, sim.Behaviour, []sim.Input, string) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	actions := engine.Actions
	p := &engine.Profile{Name: "fuzz", Triggers: map[string][]engine.Action{}}
	for _, sig := range []string{"SIGINT", "SIGTERM", "SIGQUIT", "SIGHUP"} {
		if r.IntN(4) == 0 {
			continue
		}
		n := 1 + r.IntN(3)
		for range n {
			p.Triggers[sig] = append(p.Triggers[sig], actions[r.IntN(len(actions))])
		}
	}
	at := time.Duration(0)
	for i := range r.IntN(5) {
		at += time.Duration(r.IntN(4)) * time.Second
		s := engine.Step{Name: fmt.Sprintf("s%d", i), At: at}
		switch r.IntN(5) {
		case 0, 1:
			s.Kind, s.Signal, s.Scope = engine.StepSignal, []string{"SIGTERM", "SIGINT", "SIGKILL"}[r.IntN(3)], engine.ScopeGroup
		case 2:
			s.Kind, s.Notify = engine.StepNotify, "interrupt"
		case 3:
			s.Kind, s.Command = engine.StepCommand, []string{"hook"}
			s.Timeout = time.Duration(r.IntN(3)) * time.Second
		case 4:
			s.Kind = engine.StepAbandon
		}
		p.Steps = append(p.Steps, s)
	}
	p.Deadline = at + time.Duration(1+r.IntN(5))*time.Second
	if r.IntN(2) == 0 {
		p.Finalize = &engine.Finalize{Command: []string{"final"}, Timeout: time.Duration(r.IntN(3)) * time.Second}
	}
	b := sim.Behaviour{
		Reaction:  []sim.Reaction{sim.Dies, sim.ExitsAfter, sim.Ignores}[r.IntN(3)],
		After:     time.Duration(r.IntN(6)) * time.Second,
		Code:      r.IntN(3),
		ExecTakes: time.Duration(r.IntN(8)) * time.Second,
	}
	if r.IntN(2) == 0 {
		b.At = time.Duration(1+r.IntN(10)) * time.Second
	}
	var inputs []sim.Input
	for range r.IntN(5) {
		in := sim.Input{At: time.Duration(r.IntN(12)) * time.Second}
		if r.IntN(5) == 0 {
			in.Cancel = []string{"api", "timeout"}[r.IntN(2)]
		} else {
			in.Signal = []string{"SIGINT", "SIGTERM", "SIGQUIT", "SIGHUP", "SIGUSR1"}[r.IntN(5)]
		}
		inputs = append(inputs, in)
	}
	early := ""
	if r.IntN(6) == 0 {
		early = "api"
	}
	return p, b, inputs, early
}

type fullRecorder struct{ evs []engine.Event }

func (f *fullRecorder) Emit(e engine.Event) { f.evs = append(f.evs, e) }

// scheduler is what a scenario needs of a clock besides engine.Clock.
type scheduler interface {
	engine.Clock
	AfterFunc(time.Duration, func()) engine.Timer
}

func runScenario(t *testing.T, seed uint64) ([]engine.Event, engine.Result) {
	vc := engine.NewVirtualClock(sim.Start())
	return runScenarioOn(t, seed, vc, vc)
}

// runScenarioOn runs scenario seed with the engine on clock and the job and
// inputs scheduled on sched.
func runScenarioOn(t *testing.T, seed uint64, clock engine.Clock, sched scheduler) ([]engine.Event, engine.Result) {
	p, b, inputs, early := scenario(seed)
	job := sim.NewJob(b, sched)
	rec := &fullRecorder{}
	e, err := engine.New(engine.Config{Profile: p, Target: job, Clock: clock, Sinks: []engine.Sink{rec}})
	if err != nil {
		t.Fatal(err)
	}
	if early != "" {
		e.Cancel(early)
	}
	for _, in := range inputs {
		sched.AfterFunc(in.At, func() {
			if in.Cancel != "" {
				e.Cancel(in.Cancel)
			} else {
				e.Deliver(in.Signal)
			}
		})
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	sched.AfterFunc(time.Hour, stop) // a job that never ends and no cancellation
	return rec.evs, e.Run(ctx)
}

// FuzzEngine checks invariants of random profiles, jobs and inputs in
// virtual time: exactly one end, states that chain, nothing after the
// end, no step after the outcome, a status that follows the outcome, and
// the same events every time.
func FuzzEngine(f *testing.F) {
	for seed := range uint64(200) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		evs, res := runScenario(t, seed)
		checkRun(t, evs, res)
		checkCommands(t, seed, evs)
		checkOffsets(t, seed, evs)
		again, _ := runScenario(t, seed)
		if diff := cmp.Diff(evs, again); diff != "" {
			t.Fatalf("not deterministic (-first +second):\n%s", diff)
		}
	})
}

// checkRun checks what must hold for every run.
func checkRun(t *testing.T, evs []engine.Event, res engine.Result) {
	t.Helper()
	if len(evs) == 0 || evs[0].To != engine.StateRunning {
		t.Fatalf("first event %+v", evs)
	}
	decided := false
	for i, e := range evs {
		if i > 0 && e.From != evs[i-1].To {
			t.Fatalf("event %d from %q, but the machine was in %q", i, e.From, evs[i-1].To)
		}
		if e.To == engine.StateDone && i != len(evs)-1 {
			t.Fatalf("event after the end: %+v", evs[i+1])
		}
		if decided && strings.HasPrefix(e.Cause, "step ") && e.From != e.To {
			t.Fatalf("step after the outcome was decided: %+v", e)
		}
		if e.Outcome != "" {
			decided = true
		}
	}
	last := evs[len(evs)-1]
	if last.To != engine.StateDone || last.Outcome != res.Outcome || last.Status != res.Status {
		t.Fatalf("last event %+v, result %+v", last, res)
	}
	if res.Outcome == engine.OutcomeAbandoned && res.Status != engine.DefaultExitCodes.Abandoned {
		t.Fatalf("abandoned with status %d", res.Status)
	}
}

// TestRandomScenariosInRealTime runs the fuzz seeds through the real-time
// drivers (fake time in a synctest bubble): the same invariants must hold,
// though ties may be broken differently than in virtual time.
func TestRandomScenariosInRealTime(t *testing.T) {
	for seed := range uint64(60) {
		for _, shared := range []bool{false, true} {
			t.Run(fmt.Sprintf("seed %d shared %v", seed, shared), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					var clock engine.Clock = engine.RealClock{}
					if shared {
						clock = engine.NewSharedClock()
					}
					evs, res := runScenarioOn(t, seed, clock, engine.RealClock{})
					checkRun(t, evs, res)
				})
			})
		}
	}
}

// checkCommands checks, in virtual time, that every command step that
// started reports its end (finished or cut off at its timeout) at the
// virtual instant it falls due, unless the run ended first.
func checkCommands(t *testing.T, seed uint64, evs []engine.Event) {
	t.Helper()
	p, b, _, _ := scenario(seed)
	end := evs[len(evs)-1].Elapsed
	for _, e := range evs {
		if e.Target != "command" || e.Result != "started" {
			continue
		}
		name := strings.TrimPrefix(e.Cause, "step ")
		var timeout time.Duration
		for _, st := range p.Steps {
			if st.Name == name {
				timeout = st.Timeout
			}
		}
		due := e.Elapsed + b.ExecTakes
		if timeout > 0 && timeout < b.ExecTakes {
			due = e.Elapsed + timeout
		}
		if due >= end {
			continue
		}
		found := false
		for _, f := range evs {
			if f.Cause == "step "+name+" finished" && f.Elapsed == due {
				found = true
			}
		}
		if !found {
			t.Fatalf("command step %s started at %v, due to end at %v, not reported (run ended at %v)", name, e.Elapsed, due, end)
		}
	}
}

// checkOffsets checks, in virtual time, that every step ran exactly at its
// offset from t0 and that the deadline, when it ended the run, did so at
// exactly t0 + deadline.
func checkOffsets(t *testing.T, seed uint64, evs []engine.Event) {
	t.Helper()
	p, _, _, _ := scenario(seed)
	at := map[string]time.Duration{}
	for _, st := range p.Steps {
		at["step "+st.Name] = st.At
	}
	for _, e := range evs {
		want, isStep := at[e.Cause]
		switch {
		case isStep && e.From != e.To && e.Since != want:
			t.Fatalf("%s ran at +%v, want +%v", e.Cause, e.Since, want)
		case e.Cause == "deadline" && e.Since != p.Deadline:
			t.Fatalf("deadline at +%v, want +%v", e.Since, p.Deadline)
		}
	}
}

// TestManyScenariosOnOneSharedClock runs 1,000 random scenarios at once on
// one SharedClock (enough for the clock to split batches across CPUs),
// checking every run's invariants.
func TestManyScenariosOnOneSharedClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := engine.NewSharedClock()
		const n = 1000
		evs := make([][]engine.Event, n)
		res := make([]engine.Result, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { evs[i], res[i] = runScenarioOn(t, uint64(i%200), clock, notAtOnce{}) })
		}
		wg.Wait()
		for i := range n {
			checkRun(t, evs[i], res[i])
		}
	})
}

// notAtOnce is the real clock (the bubble's, under synctest) whose timers
// never fire at once: a zero or negative delay becomes 1ns. In a bubble,
// Go 1.26 runs a timer due at once on the calling thread with the bubble's
// single race context, and with -race two goroutines doing that on two
// threads at the same moment crash the race runtime itself (SIGSEGV in
// tsan's SlotLock under runtime.(*timer).modify; once in CI, and in about
// one run in 200 of the test below). A timer due 1ns later waits for the
// bubble's own timer goroutine, one at a time. The scenarios' invariants
// are all relative to the times inputs arrive, so the nanosecond does not
// change what they check.
type notAtOnce struct{ engine.RealClock }

func (c notAtOnce) AfterFunc(d time.Duration, f func()) engine.Timer {
	return notAtOnceTimer{c.RealClock.AfterFunc(max(d, time.Nanosecond), f)}
}

type notAtOnceTimer struct{ engine.Timer }

func (t notAtOnceTimer) Reset(d time.Duration) { t.Timer.Reset(max(d, time.Nanosecond)) }
