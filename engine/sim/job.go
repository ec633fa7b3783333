// Package sim is a simulated job for the engine: a Target that reacts to
// signals the way a described program would, on a virtual (or real) clock.
// graceful simulate and the engine's tests run the real engine against it.
package sim

import (
	"context"
	"sync"
	"time"

	"github.com/graceful-sh/graceful/engine"
)

// Reaction is what a simulated job does with the first signal (other than
// SIGKILL) or notification it receives.
type Reaction string

// Reactions.
const (
	// Dies: the job dies of the signal (default disposition), or exits
	// with Behaviour.Code when notified.
	Dies Reaction = "exits-on-term"
	// ExitsAfter: the job handles it and exits with Behaviour.Code
	// Behaviour.After later.
	ExitsAfter Reaction = "exits-after"
	// Ignores: the job ignores every signal but SIGKILL, and every
	// notification.
	Ignores Reaction = "ignores-term"
)

// Behaviour describes a simulated job.
type Behaviour struct {
	// Reaction is what the first signal or notification does.
	Reaction Reaction
	// After is the delay for ExitsAfter.
	After time.Duration
	// At, when positive, makes the job exit on its own at At after it
	// started (with Code), whatever else happens.
	At time.Duration
	// Code is the status of the job's own exits.
	Code int
	// ExecTakes is how long every command step and the finalisation run.
	ExecTakes time.Duration
	// ExecErr, when set, is how they end.
	ExecErr error
}

// Clock is what a Job needs of a clock: *engine.VirtualClock and
// engine.RealClock both have it.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) engine.Timer
}

// ExecCall is one command the engine ran through the job.
type ExecCall struct {
	Argv, Env []string
}

// Job is a simulated job; it implements engine.Target and
// engine.SimulatedExec. Create it with NewJob.
type Job struct {
	b     Behaviour
	clock Clock
	done  chan engine.Exit

	mu      sync.Mutex
	stopped bool
	handled bool
	timers  []engine.Timer
	execs   []ExecCall
}

// NewJob starts a simulated job with behaviour b at the clock's now.
func NewJob(b Behaviour, clock Clock) *Job {
	j := &Job{b: b, clock: clock, done: make(chan engine.Exit, 1)}
	if b.At > 0 {
		t := clock.AfterFunc(b.At, func() { j.stop(engine.Exit{Code: b.Code}) })
		j.mu.Lock()
		j.timers = append(j.timers, t)
		j.mu.Unlock()
	}
	return j
}

// stop ends the job once; Done then reports x.
func (j *Job) stop(x engine.Exit) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.stopped {
		return
	}
	j.stopped = true
	for _, t := range j.timers {
		t.Stop()
	}
	j.done <- x
}

// Signal implements engine.Target.
func (j *Job) Signal(sig string, _ engine.Scope) error {
	j.mu.Lock()
	stopped := j.stopped
	j.mu.Unlock()
	switch {
	case stopped:
		return engine.ErrGone
	case sig == "SIGKILL":
		j.stop(engine.Exit{Signal: sig, SignalNumber: engine.SignalNumber(sig)})
	case sig == "SIGSTOP" || sig == "SIGCONT" || sig == "SIGCHLD" || sig == "SIGWINCH":
	default:
		j.react(engine.Exit{Signal: sig, SignalNumber: engine.SignalNumber(sig)})
	}
	return nil
}

// Notify implements engine.Target.
func (j *Job) Notify(string) error {
	j.mu.Lock()
	stopped := j.stopped
	j.mu.Unlock()
	if stopped {
		return engine.ErrGone
	}
	j.react(engine.Exit{Code: j.b.Code})
	return nil
}

// react applies the behaviour to the first signal or notification; dying
// is what an unhandled signal does.
func (j *Job) react(death engine.Exit) {
	j.mu.Lock()
	first := !j.handled
	j.handled = true
	j.mu.Unlock()
	switch j.b.Reaction {
	case Dies:
		j.stop(death)
	case ExitsAfter:
		if first {
			t := j.clock.AfterFunc(j.b.After, func() { j.stop(engine.Exit{Code: j.b.Code}) })
			j.mu.Lock()
			j.timers = append(j.timers, t)
			j.mu.Unlock()
		}
	}
}

// Abandon implements engine.Target: the simulated tree is killed at once.
func (j *Job) Abandon() error {
	j.mu.Lock()
	stopped := j.stopped
	j.mu.Unlock()
	if stopped {
		return engine.ErrGone
	}
	j.stop(engine.Exit{Abandoned: true})
	return nil
}

// Done implements engine.Target.
func (j *Job) Done() <-chan engine.Exit { return j.done }

// SimulateExec implements engine.SimulatedExec: under a virtual clock every
// command takes ExecTakes and ends with ExecErr.
func (j *Job) SimulateExec(argv, env []string) (time.Duration, error) {
	j.mu.Lock()
	j.execs = append(j.execs, ExecCall{Argv: argv, Env: env})
	j.mu.Unlock()
	return j.b.ExecTakes, j.b.ExecErr
}

// Exec implements engine.Target on a real clock: it waits ExecTakes.
func (j *Job) Exec(ctx context.Context, argv, env []string) error {
	d, err := j.SimulateExec(argv, env)
	fired := make(chan struct{})
	t := j.clock.AfterFunc(d, func() { close(fired) })
	defer t.Stop()
	select {
	case <-fired:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Execs lists the commands run so far.
func (j *Job) Execs() []ExecCall {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]ExecCall(nil), j.execs...)
}
