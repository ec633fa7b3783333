package engine_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/graceful-sh/graceful/engine"
)

// countingTarget counts the signals it is sent; its job never ends by
// itself and dies when abandoned.
type countingTarget struct {
	signals atomic.Int64
	done    chan engine.Exit
	once    sync.Once
}

func newCountingTarget() *countingTarget { return &countingTarget{done: make(chan engine.Exit, 1)} }

func (t *countingTarget) Signal(string, engine.Scope) error { t.signals.Add(1); return nil }
func (t *countingTarget) Notify(string) error               { return engine.ErrNotSupported }
func (t *countingTarget) Abandon() error {
	t.once.Do(func() { t.done <- engine.Exit{Abandoned: true} })
	return nil
}
func (t *countingTarget) Exec(context.Context, []string, []string) error { return nil }
func (t *countingTarget) Done() <-chan engine.Exit                       { return t.done }

func forwardProfile() *engine.Profile {
	return &engine.Profile{
		Name: "forward",
		Triggers: map[string][]engine.Action{
			"SIGUSR1": {engine.ActionForward},
			"SIGINT":  {engine.ActionExit},
		},
		Deadline: 10 * s,
	}
}

// stepSink closes ran when the event of step b arrives.
type stepSink struct {
	fullRecorder
	ran chan struct{}
}

func (k *stepSink) Emit(e engine.Event) {
	k.fullRecorder.Emit(e)
	if e.Cause == "step b" {
		close(k.ran)
	}
}

// TestConcurrentDeliveries hammers one engine on the real clock with
// signals from several goroutines while its timeline starts: every signal
// is forwarded exactly once, the due steps still run, and the events chain
// (run it with -race).
func TestConcurrentDeliveries(t *testing.T) {
	p := forwardProfile()
	p.Triggers["SIGTERM"] = []engine.Action{engine.ActionCancel}
	p.Steps = []engine.Step{
		{Name: "a", At: 0, Kind: engine.StepNotify, Notify: "x"},
		{Name: "b", At: 0, Kind: engine.StepNotify, Notify: "y"},
	}
	job := newCountingTarget()
	rec := &stepSink{ran: make(chan struct{})}
	e, err := engine.New(engine.Config{Profile: p, Target: job, Sinks: []engine.Sink{rec}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan engine.Result)
	go func() { done <- e.Run(context.Background()) }()
	const senders, each = 4, 500
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			for j := range each {
				e.Deliver("SIGUSR1")
				if i == 0 && j == each/2 {
					e.Deliver("SIGTERM")
				}
			}
		})
	}
	wg.Wait()
	<-rec.ran
	e.Deliver("SIGINT")
	res := <-done
	if got := job.signals.Load(); got != senders*each {
		t.Errorf("target got %d signals, want %d", got, senders*each)
	}
	checkRun(t, rec.evs, res)
	// A forward whose answer took longer than the driver waits for goes
	// out as pending, and its answer follows in an event of its own: one
	// answer per pending event, and no other extra event.
	late := lateAnswers(t, rec.evs)
	if n := len(rec.evs) - late; n != 1+1+senders*each+2+1 {
		t.Errorf("%d events besides %d late answers", n, late)
	}
}

// lateAnswers checks that every event whose result is "pending" is
// answered by exactly one later event for the same cause and action, and
// returns how many answers there are.
func lateAnswers(t *testing.T, evs []engine.Event) int {
	t.Helper()
	open := map[string]int{}
	n := 0
	for _, e := range evs {
		key := e.Cause + "|" + e.Action + "|" + e.Target
		switch {
		case e.Result == "pending":
			open[key]++
		case strings.Contains(e.Result, " (after "):
			if open[key] == 0 {
				t.Errorf("answer without a pending event: %+v", e)
			}
			open[key]--
			n++
		}
	}
	for key, k := range open {
		if k != 0 {
			t.Errorf("%d pending events for %s never answered", k, key)
		}
	}
	return n
}
