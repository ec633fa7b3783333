package engine_test

import (
	"context"
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
	if n := len(rec.evs); n != 1+1+senders*each+2+1 {
		t.Errorf("%d events", n)
	}
}
