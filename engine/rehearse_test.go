package engine_test

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/sim"
)

// rehearsalSpy is a job that records its real signals and its rehearsed
// ones (engine.Rehearser).
type rehearsalSpy struct {
	*sim.Job
	mu         sync.Mutex
	signals    []string
	rehearsals []engine.Scope
}

func (r *rehearsalSpy) Signal(sig string, scope engine.Scope) error {
	r.mu.Lock()
	r.signals = append(r.signals, sig+" "+string(scope))
	r.mu.Unlock()
	return r.Job.Signal(sig, scope)
}

func (r *rehearsalSpy) QuickSignal(scope engine.Scope) bool { return scope != engine.ScopeTree }

func (r *rehearsalSpy) RehearseSignal(scope engine.Scope) error {
	r.mu.Lock()
	r.rehearsals = append(r.rehearsals, scope)
	r.mu.Unlock()
	return nil
}

// Rehearse takes the first cancel's path as far as a kill(2) with signal
// 0 (RehearseSignal), through the drain a first SIGTERM starts, and sends
// nothing, tells no sink and leaves the engine as it was.
func TestRehearse(t *testing.T) {
	b, _ := sim.ParseBehaviour("exits-on-term")
	spy := &rehearsalSpy{Job: sim.NewJob(b, engine.RealClock{})}
	rec := &recorder{}
	e, err := engine.New(engine.Config{Profile: processProfile(), Target: spy, Clock: engine.PreciseClock{}, Sinks: []engine.Sink{rec}})
	if err != nil {
		t.Fatal(err)
	}
	e.Rehearse()
	if len(spy.signals) != 0 || len(rec.evs) != 0 {
		t.Fatalf("the rehearsal sent %v and told the sink %v", spy.signals, rec.evs)
	}
	if want := []engine.Scope{engine.ScopeGroup}; !slices.Equal(spy.rehearsals, want) {
		t.Errorf("rehearsed signals to %v, want %v (the interrupt step, after the drain)", spy.rehearsals, want)
	}
	e.Deliver("SIGTERM")
	e.Deliver("SIGTERM")
	res := e.Run(context.Background())
	if res.Outcome != engine.OutcomeCancelled || res.Reason != "signal SIGTERM #2" {
		t.Errorf("after the rehearsal the run ended %s %q, want cancelled by SIGTERM #2", res.Outcome, res.Reason)
	}
	if got := states(rec.evs); len(got) == 0 || got[0] != "running" {
		t.Errorf("events %v, want the run's own from its start", got)
	}
	if want := []string{"SIGTERM group"}; !slices.Equal(spy.signals, want) {
		t.Errorf("signals %v, want %v", spy.signals, want)
	}
	if len(spy.rehearsals) != 1 {
		t.Errorf("%d rehearsals, want the one", len(spy.rehearsals))
	}
}

// A profile no signal cancels has nothing to rehearse.
func TestRehearseNothingToCancel(t *testing.T) {
	p := processProfile()
	p.Triggers = map[string][]engine.Action{"SIGHUP": {engine.ActionIgnore}}
	b, _ := sim.ParseBehaviour("exits-at=10ms")
	spy := &rehearsalSpy{Job: sim.NewJob(b, engine.RealClock{})}
	e, err := engine.New(engine.Config{Profile: p, Target: spy})
	if err != nil {
		t.Fatal(err)
	}
	e.Rehearse()
	if len(spy.rehearsals)+len(spy.signals) != 0 {
		t.Errorf("rehearsed %v, sent %v", spy.rehearsals, spy.signals)
	}
}

// An engine on a PreciseClock waits with stack to spare below it
// (waitRoomy), so that waking up never grows its stack; one on another
// clock does not hold that stack.
func TestPreciseEngineWaitsOnARoomyStack(t *testing.T) {
	for _, tc := range []struct {
		clock engine.Clock
		roomy bool
	}{{engine.PreciseClock{}, true}, {engine.RealClock{}, false}} {
		b, _ := sim.ParseBehaviour("exits-on-term")
		e, err := engine.New(engine.Config{Profile: processProfile(), Target: sim.NewJob(b, engine.RealClock{}), Clock: tc.clock})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { e.Run(context.Background()); close(done) }()
		waitsIn(t, "engine.(*machine).wait(")
		if got := waitsIn(t, "engine.(*machine).waitRoomy("); got != tc.roomy {
			t.Errorf("%T: waiting in waitRoomy = %v, want %v", tc.clock, got, tc.roomy)
		}
		e.Cancel("test")
		<-done
	}
}

// timedSink notes when each event reached it.
type timedSink struct {
	mu  sync.Mutex
	evs []string
	at  []time.Time
}

func (t *timedSink) Emit(e engine.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.evs = append(t.evs, e.To)
	t.at = append(t.at, time.Now())
}

// The events of a pass that signalled the job reach the sinks a moment
// later (engine's eventLag), after the signal, in order, and without
// waiting for anything else to happen: here the next step is 5 s away
// and the job never exits on its own.
func TestEventsAfterASignalArriveOnTheirOwn(t *testing.T) {
	p := processProfile()
	p.Triggers["SIGTERM"] = []engine.Action{engine.ActionCancel}
	p.Steps[1].At = 5 * s
	p.Deadline = 6 * s
	b, _ := sim.ParseBehaviour("ignores-term")
	spy := &rehearsalSpy{Job: sim.NewJob(b, engine.RealClock{})}
	sink := &timedSink{}
	e, err := engine.New(engine.Config{Profile: p, Target: spy, Clock: engine.PreciseClock{}, Sinks: []engine.Sink{sink}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	// Once Run waits (a signal that came before would leave a wake-up
	// behind that flushes the events at once).
	if !waitsIn(t, "engine.(*machine).waitRoomy(") {
		t.Fatal("Run never waited")
	}
	e.Deliver("SIGTERM")
	deadline := time.Now().Add(2 * time.Second)
	var got []string
	for time.Now().Before(deadline) {
		sink.mu.Lock()
		got = slices.Clone(sink.evs)
		sink.mu.Unlock()
		if slices.Contains(got, "step:interrupt") {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if want := []string{"running", "cancelling", "step:interrupt"}; len(got) < 3 || !slices.Equal(got[:3], want) {
		t.Fatalf("events within 2 s of the signal: %v, want %v first", got, want)
	}
	if len(spy.signals) == 0 || spy.signals[0] != "SIGTERM group" {
		t.Errorf("signals %v", spy.signals)
	}
}

// waitsIn reports whether a goroutine's stack shows frame, looking for up
// to a second.
func waitsIn(t *testing.T, frame string) bool {
	t.Helper()
	for range 200 {
		buf := make([]byte, 1<<20)
		if strings.Contains(string(buf[:runtime.Stack(buf, true)]), frame) {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// Run reads the signals of Config.Signals itself: those Route lets
// through are delivered as Deliver would, the others are left to the
// caller.
func TestRunReadsItsSignals(t *testing.T) {
	p := processProfile()
	b, _ := sim.ParseBehaviour("exits-on-term")
	spy := &rehearsalSpy{Job: sim.NewJob(b, engine.RealClock{})}
	sigs := make(chan os.Signal, 4)
	var routedAway []string
	route := func(s os.Signal) (string, bool) {
		name := map[os.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGHUP: "SIGHUP"}[s]
		if name == "SIGHUP" {
			routedAway = append(routedAway, name)
			return name, false
		}
		return name, true
	}
	rec := &recorder{}
	e, err := engine.New(engine.Config{Profile: p, Target: spy, Clock: engine.PreciseClock{}, Sinks: []engine.Sink{rec}, Signals: sigs, Route: route})
	if err != nil {
		t.Fatal(err)
	}
	sigs <- syscall.SIGHUP // the profile ignores it: it must not even be seen
	sigs <- syscall.SIGTERM
	sigs <- syscall.SIGTERM
	res := e.Run(context.Background())
	if res.Outcome != engine.OutcomeCancelled || res.Reason != "signal SIGTERM #2" {
		t.Errorf("run ended %s %q, want cancelled by SIGTERM #2", res.Outcome, res.Reason)
	}
	if !slices.Equal(routedAway, []string{"SIGHUP"}) {
		t.Errorf("routed away %v, want SIGHUP", routedAway)
	}
	for _, x := range rec.evs {
		if strings.Contains(x.Cause, "SIGHUP") {
			t.Errorf("the engine saw SIGHUP: %v", x)
		}
	}
	if _, err := engine.New(engine.Config{Profile: p, Target: spy, Clock: engine.NewVirtualClock(time.Time{}), Signals: sigs}); err == nil {
		t.Error("New took Signals with a VirtualClock")
	}
}
