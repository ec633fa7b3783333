// Package supervise is the one lifecycle of a supervising graceful: `run`,
// `join`, the kubernetes coordinator and the process runner's embedding
// API all go through Run. It catches the signals a Plan names (one table,
// signals.go, says which signals are caught, which are left as inherited
// and which the Go runtime reserves), starts the job, builds the engine,
// feeds it the signals, the timeout and any other cancel source, runs it
// and cleans up.
//
// The model is oklog/run's actor group: each input source is an actor
// that runs until the run is over; Run starts them in order and stops
// them all when the engine is done.
package supervise

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"sync"
	"time"

	"github.com/graceful-sh/graceful/engine"
)

// LateAfter is how long into a run the Plan's Late signals are caught.
const LateAfter = 5 * time.Millisecond

// RehearseAfter is how long into a run the engine rehearses the first
// cancel (engine.Engine.Rehearse): a short job never pays for it.
const RehearseAfter = 10 * time.Millisecond

// SettleAfter is how long into a run Spec.Settle is called: a job that
// lives on leaves its supervisor mostly waiting, and a short one never
// pays for what Settle does.
const SettleAfter = 200 * time.Millisecond

// Job is a started job: the engine's Target, and how to clean up after it.
type Job interface {
	engine.Target
	// Close ends whatever is left of the job once the engine is done;
	// it returns an error naming what could not be cleaned up.
	Close() error
}

// Spec is one supervised run.
type Spec struct {
	// Profile is the policy. Required.
	Profile *engine.Profile
	// Signals are the signals caught and what each means.
	Signals Plan
	// Start starts the job; it is called once the Plan's signals are
	// caught, or, with Ahead, once they are being caught: it must then
	// not start the job before Ahead.Ready() is closed
	// (process.Options.Ready). A nil Job with an error fails the run; a
	// Job with an error is a job that could not start but still goes
	// through the engine (its Done reports the failure), and the error is
	// logged.
	Start func() (Job, error)
	// Sinks receive the engine's events.
	Sinks []engine.Sink
	// Env is added to the environment of command steps and finalisation.
	Env []string
	// Timeout, when positive, starts cancellation (cause "timeout") this
	// long after the job started.
	Timeout time.Duration
	// Ahead, when set, is the catch of the Plan's signals begun earlier
	// (CatchAhead), so that the round trips it makes overlapped the
	// caller's own start-up: Run takes its channel over and catches only
	// what it left out.
	Ahead *Ahead
	// Cancel, when set, starts cancellation with the cause it delivers
	// (join: the coordinator's interrupt).
	Cancel <-chan string
	// KeepCaught leaves the Plan's signals caught (and dropped) after Run
	// returns, for a process that is about to exit: a SIGTERM arriving
	// between the end of the run and the exit must not end it with the
	// signal's default action and change its status. Without it the
	// signals get their previous handling back.
	KeepCaught bool
	// Logf receives supervise's own messages (nil: none).
	Logf func(format string, args ...any)
	// Started, when set, is called with the job once it started and the
	// engine exists, before the engine runs.
	Started func(Job, *engine.Engine)
	// Settle, when set, is called (on a goroutine of its own) once the
	// job has run SettleAfter, unless the run is over by then: run and
	// join give back their start-up pages then.
	Settle func()
	// Urgent, when set, is called once (on a goroutine of its own) when
	// the timeline's steps are near: as cancellation begins, after the
	// first cancelling signal went out (engine.Config.Urgent), or
	// UrgentLead before Timeout cancels. run and join raise their
	// priority then: a job that keeps every core busy must not delay
	// the steps, but the raised priority before that would slow the
	// job's own reaction to the first cancelling signal.
	Urgent func()
}

// UrgentLead is how long before Timeout cancels Spec.Urgent is called,
// so that the timeout itself is on time under a busy job.
const UrgentLead = 50 * time.Millisecond

// Run carries out s: the numbered steps below. It returns the engine's
// Result, or an error when the run could not begin (Start's error when it
// returned no Job).
func Run(ctx context.Context, s Spec) (engine.Result, error) {
	if s.Profile == nil || s.Start == nil {
		return engine.Result{}, fmt.Errorf("%w: %s", engine.ErrConfig, "supervise: Spec needs Profile and Start")
	}
	logf := s.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}

	// 1. Catch signals before the job exists, so none is missed or
	// handled by default in between: here, or (Ahead) on a goroutine
	// that Start's job waits for.
	sigs := make(chan os.Signal, 16)
	caught := s.Signals.Caught()
	names := caught
	if s.Ahead != nil {
		sigs, names = s.Ahead.take(names)
	}
	Catch(sigs, names...)
	defer release(sigs, s.KeepCaught)
	// The signals are handled from now on: swallowed ones are said at
	// once, those for the engine wait for it. Once it exists, Run's own
	// goroutine reads them (engine.Config.Signals) and hands feed only
	// what the engine does not take (route).
	var g group
	defer g.stop()
	ready := make(chan target) // unbuffered: once sent, feed reads sigs no more
	routed := make(chan string, 16)
	g.add(func(stop <-chan struct{}) { feed(stop, sigs, routed, s.Signals, ready) })

	// 2. Start the job.
	job, err := s.Start()
	if s.Ahead != nil {
		<-s.Ahead.Done() // Start waited for it, unless it failed first
	}
	if job == nil {
		if err == nil {
			err = errors.New("no job")
		}
		return engine.Result{}, err
	}
	if err != nil {
		logf("%v", err)
	}
	defer func() {
		if err := job.Close(); err != nil {
			logf("cleanup: %v", err)
		}
	}()

	// 3. The engine.
	var urgent func() // s.Urgent, once whoever calls it first
	if s.Urgent != nil {
		urgent = sync.OnceFunc(s.Urgent)
	}
	eng, err := engine.New(engine.Config{
		Profile: s.Profile, Target: job, Sinks: s.Sinks, Env: s.Env, Clock: engine.PreciseClock{},
		Signals: sigs, Route: route(s.Signals, routed), Urgent: urgent,
	})
	if err != nil {
		_ = job.Abandon()
		return engine.Result{}, err
	}
	if s.Started != nil {
		s.Started(job, eng)
	}

	// 4. The actors that feed it, until the run is over: signals, the
	// late catch, the timeout, the other cancel source.
	ready <- target{eng, job}
	if len(s.Signals.Late) > 0 {
		g.afterFunc(LateAfter, func() { Catch(sigs, s.Signals.Late...) })
	}
	if s.Timeout > 0 {
		g.afterFunc(s.Timeout, func() { eng.Cancel(engine.CauseTimeout) })
		if s.Urgent != nil && s.Timeout > UrgentLead {
			g.afterFunc(s.Timeout-UrgentLead, urgent)
		}
	}
	// The first cancel's path, rehearsed once it is clear the job lives
	// on, and again after Settle (which may have given back the pages it
	// needs): see rehearse.
	bySignal := len(caught) > 0
	g.afterFunc(RehearseAfter, func() { rehearse(eng, bySignal, s.Signals) })
	if s.Settle != nil {
		g.afterFunc(SettleAfter, func() {
			s.Settle()
			rehearse(eng, bySignal, s.Signals)
		})
	}
	if s.Cancel != nil {
		g.add(func(stop <-chan struct{}) {
			select {
			case cause := <-s.Cancel:
				eng.Cancel(cause)
			case <-stop:
			}
		})
	}

	// 5. Run; then stop the actors. Cleanup (Close) and the signals'
	// release follow in the deferred calls above.
	res := eng.Run(ctx)
	g.stop()
	return res, nil
}

// target is what the signals feed once it exists.
type target struct {
	eng *engine.Engine
	job Job
}

// route is the engine's Route for p: the engine takes the signals p
// delivers to it, one goroutine hand-off sooner than feed could give them;
// those p intercepts, swallows or forwards go on to feed, in order.
func route(p Plan, routed chan<- string) func(os.Signal) (string, bool) {
	return func(sig os.Signal) (string, bool) {
		name := Name(sig)
		if p.handlingOf(name) == toEngine {
			return name, true
		}
		select {
		case routed <- name:
		default: // feed is behind by 16 signals: this one merges with them
		}
		return name, false
	}
}

// handling is what a Plan has feed do with a signal; toEngine is the
// engine's.
type handling int

const (
	toEngine handling = iota
	intercepted
	swallowed
	forwarded
)

func (p Plan) handlingOf(name string) handling {
	switch {
	case p.Intercept[name] != nil:
		return intercepted
	case slices.Contains(p.Swallow, name):
		return swallowed
	case slices.Contains(p.Forward, name):
		return forwarded
	}
	return toEngine
}

// feed hands each caught signal to where the Plan says, until the engine
// exists (ready), and after that those the engine routes to it (routed).
// Signals for the engine that arrive before it exists are kept and
// delivered once it does (in order); signals to forward before the job
// exists are dropped, as there is nobody to forward them to.
func feed(stop <-chan struct{}, sigs <-chan os.Signal, routed <-chan string, p Plan, ready <-chan target) {
	var t target
	var early []string
	handle := func(name string) {
		switch p.handlingOf(name) {
		case intercepted:
			p.Intercept[name]()
		case swallowed:
			if p.OnSwallow != nil {
				p.OnSwallow(name)
			}
		case forwarded:
			if t.job != nil {
				_ = t.job.Signal(name, engine.ScopeGroup)
			}
		default: // only before the engine exists: it reads them itself
			early = append(early, name)
		}
	}
	for {
		in := sigs
		if t.eng != nil {
			in = nil // the engine reads them now
		}
		select {
		case <-stop:
			return
		case t = <-ready:
			for _, name := range early {
				t.eng.Deliver(name)
			}
			early = nil
		case sig := <-in:
			handle(Name(sig))
		case name := <-routed:
			handle(name)
		}
	}
}

// release undoes Catch for ch: signal.Stop gives the signals their
// previous handling back, or, with keep, they stay caught and are dropped
// (the channel is never read again; Notify never blocks on a full one).
func release(ch chan os.Signal, keep bool) {
	if !keep {
		signal.Stop(ch)
	}
}

// group is a minimal actor group: functions that run until stop, and
// timers, all ended by stop.
type group struct {
	done    chan struct{}
	stopped bool
	wg      sync.WaitGroup
	timers  []*time.Timer
}

func (g *group) add(f func(stop <-chan struct{})) {
	if g.done == nil {
		g.done = make(chan struct{})
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		f(g.done)
	}()
}

func (g *group) afterFunc(d time.Duration, f func()) {
	g.timers = append(g.timers, time.AfterFunc(d, f))
}

// stop ends every actor and timer and waits for the actors to return. It
// may be called again.
func (g *group) stop() {
	for _, t := range g.timers {
		t.Stop()
	}
	g.timers = nil
	if g.done != nil && !g.stopped {
		g.stopped = true
		close(g.done)
	}
	g.wg.Wait()
}
