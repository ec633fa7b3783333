package engine_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/graceful-sh/graceful/engine"
)

// job is a stand-in for a real runner: it stops when it gets SIGTERM.
type job struct{ done chan engine.Exit }

func newJob() *job { return &job{done: make(chan engine.Exit, 1)} }

func (j *job) Signal(sig string, _ engine.Scope) error {
	if sig == "SIGTERM" || sig == "SIGKILL" {
		select {
		case j.done <- engine.Exit{Signal: sig, SignalNumber: engine.SignalNumber(sig)}:
		default:
			return engine.ErrGone
		}
	}
	return nil
}
func (j *job) Notify(string) error                            { return engine.ErrNotSupported }
func (j *job) Abandon() error                                 { return nil }
func (j *job) Exec(context.Context, []string, []string) error { return nil }
func (j *job) Done() <-chan engine.Exit                       { return j.done }

// A program can run any number of engines at once: an Engine holds no
// global state, and a Profile is read-only, so one profile serves them all.
// A SharedClock keeps one timer heap for all of them instead of a timer
// and a goroutine wake-up each.
func Example_manyEngines() {
	profile := &engine.Profile{
		Name: "ci-job",
		Triggers: map[string][]engine.Action{
			"SIGTERM": {engine.ActionCancel, engine.ActionExit},
		},
		Steps: []engine.Step{
			{Name: "interrupt", At: 0, Kind: engine.StepSignal, Signal: "SIGTERM", Scope: engine.ScopeGroup},
			{Name: "kill", At: 5 * time.Second, Kind: engine.StepSignal, Signal: "SIGKILL", Scope: engine.ScopeTree},
		},
		Deadline: 10 * time.Second,
	}
	clock := engine.NewSharedClock()

	const jobs = 1000
	engines := make([]*engine.Engine, jobs)
	results := make([]engine.Result, jobs)
	var wg sync.WaitGroup
	for i := range engines {
		e, err := engine.New(engine.Config{Profile: profile, Target: newJob(), Clock: clock})
		if err != nil {
			panic(err)
		}
		engines[i] = e
		wg.Go(func() { results[i] = e.Run(context.Background()) })
	}

	// Cancel every job, say because the pipeline was cancelled: the
	// same as each engine receiving SIGTERM.
	for _, e := range engines {
		e.Deliver("SIGTERM")
	}
	wg.Wait()

	count := map[string]int{}
	for _, r := range results {
		count[fmt.Sprintf("%s, exit status %d", r.Outcome, r.Status)]++
	}
	fmt.Println(count)
	// Output: map[cancelled, exit status 143:1000]
}

// On a VirtualClock the engine runs in virtual time: the whole timeline,
// SIGKILL at 5s included, completes at once, always with the same events.
func Example_virtualTime() {
	profile := &engine.Profile{
		Name: "ignored-term",
		Steps: []engine.Step{
			{Name: "interrupt", At: 0, Kind: engine.StepSignal, Signal: "SIGTERM", Scope: engine.ScopeGroup},
			{Name: "kill", At: 5 * time.Second, Kind: engine.StepSignal, Signal: "SIGKILL", Scope: engine.ScopeTree},
		},
		Deadline: 10 * time.Second,
	}
	stubborn := &stubbornJob{job: newJob()}
	e, err := engine.New(engine.Config{
		Profile: profile,
		Target:  stubborn,
		Clock:   engine.NewVirtualClock(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)),
		Sinks:   []engine.Sink{engine.NewTextSink(os.Stdout)},
	})
	if err != nil {
		panic(err)
	}
	e.Cancel("api")
	r := e.Run(context.Background())
	fmt.Println(r.Outcome, r.Status, r.Elapsed)
	// Output:
	//    0.000s running          start
	//   +0.000s cancelling       api
	//   +0.000s step:interrupt   signal SIGTERM → group: ok
	//   +5.000s step:kill        signal SIGKILL → tree: ok
	//   +5.000s done             job killed by SIGKILL; cancelled, exit status 137
	// cancelled 137 5s
}

// stubbornJob ignores SIGTERM.
type stubbornJob struct{ *job }

func (j *stubbornJob) Signal(sig string, scope engine.Scope) error {
	if sig == "SIGTERM" {
		return nil
	}
	return j.job.Signal(sig, scope)
}
