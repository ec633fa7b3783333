package engine

import (
	"context"
	"errors"
	"time"
)

// Target is the job as the engine sees it. Runners implement it: the process
// runner for a local process tree, the kubernetes runner for job containers
// reached over a socket, and package tests or simulate for simulated jobs.
//
// The engine calls the methods one at a time, from its loop goroutine (or,
// for engines on a SharedClock, the clock's goroutines); they must not block
// for long (a signal send, a socket write). Exec is the exception: the
// engine calls it on a goroutine of its own.
type Target interface {
	// Signal sends the named signal ("SIGTERM") to scope. It returns
	// ErrNotSupported when the runner cannot deliver signals (kubernetes)
	// and ErrGone when the job has already stopped.
	Signal(sig string, scope Scope) error
	// Notify sends a runner-level message ("interrupt") to the job.
	// It returns ErrNotSupported where there is no such channel.
	Notify(msg string) error
	// Abandon kills whatever the runner can still kill (the whole tree for
	// the process runner) and makes Done report promptly: after Abandon
	// the engine waits for nothing the job does.
	Abandon() error
	// Exec runs argv (a command step or finalisation) with env added to
	// graceful's environment, until it exits or ctx is done (then it is
	// killed). It returns the command's error, nil on exit status 0.
	Exec(ctx context.Context, argv []string, env []string) error
	// Done is closed-over-once: it delivers exactly one Exit when the job
	// has stopped (or was abandoned), then nothing.
	Done() <-chan Exit
}

// Forwarder is implemented by a Target that passes a forwarded signal (a
// trigger's "forward" action) on differently from a signal step: the
// process runner follows a step's SIGTERM with SIGCONT, so that a stopped
// job acts on it, but forwards a signal alone, as tini and dumb-init do
// (a SIGHUP meant as "reload" must not resume a job stopped on purpose).
// Without it, a forward is Signal(sig, ScopeGroup).
type Forwarder interface {
	Forward(sig string) error
}

// QuickSignaller is implemented by a Target whose Signal to some scopes
// (and Forward, which goes to the group) is a few system calls that never
// wait: a kill(2) of a process group. The real-time driver then sends such
// a signal from Run's own goroutine instead of a goroutine of its own with
// a bounded wait for the answer: one thread wake-up less between a due
// step, or a forwarded signal, and the job. A scope whose signalling may
// take long (a walk of /proc for a tree) must answer false.
type QuickSignaller interface {
	QuickSignal(scope Scope) bool
}

// A LeadSignaller sends the quick part of a signal that is not quick
// from Run's own goroutine, before the whole Signal goes to a goroutine
// of its own: the process runner sends a tree's SIGKILL to the job's
// process group first, one kill(2), so that most of the job dies without
// waiting for that goroutine to be scheduled (each goroutine made
// runnable may wake a thread first). Signal then sends the whole signal
// as usual, the lead's part included, so the lead must be a signal that
// may arrive twice (SIGKILL). SignalLead reports whether it sent one;
// when it did, the whole signal's ErrGone (the lead took the whole job)
// counts as the signal reaching the job.
type LeadSignaller interface {
	SignalLead(sig string, scope Scope) bool
}

// A Rehearser is a QuickSignaller that can take the whole path of a
// quick signal without sending one (kill(2) with signal 0): what
// Engine.Rehearse has the first cancel do.
type Rehearser interface {
	QuickSignaller
	RehearseSignal(scope Scope) error
}

// Errors a Target may return.
var (
	ErrNotSupported = errors.New("not supported by this runner")
	ErrGone         = errors.New("job already stopped")
)

// Exit is how a job ended.
type Exit struct {
	// Code is the exit status when the job exited by itself.
	Code int
	// Signal is the name of the signal that killed the job ("SIGKILL"),
	// empty when it exited by itself.
	Signal string
	// SignalNumber is the number of Signal on the platform (9 for
	// SIGKILL); it gives the shell's 128+N status.
	SignalNumber int
	// Abandoned is true when the job's end was not observed: it was
	// abandoned, or lost (kubernetes client gone without a report).
	Abandoned bool
	// Err is set when the job could not be started at all; Code then
	// holds graceful's status for that failure (126, 127, 125).
	Err error
}

// Status is the exit status a shell would report for e: the code, or
// 128+N for a death by signal N.
func (e Exit) Status() int {
	if e.Signal != "" {
		return 128 + e.SignalNumber
	}
	return e.Code
}

// Event is one transition of an engine, or one thing it did. Every
// transition and every action produces exactly one Event.
type Event struct {
	// Time is the wall (or virtual) time of the event.
	Time time.Time
	// Since is the time since t0; negative or zero before cancellation
	// started (Cancelled reports which).
	Since time.Duration
	// Cancelled is true once t0 has passed.
	Cancelled bool
	// From and To are the machine's states; equal when the event is an
	// action that did not change state.
	From, To string
	// Cause is what led to the event: "signal SIGINT #2", "step terminate",
	// "job exited", "deadline", "timeout".
	Cause string
	// Action is what the engine did ("signal SIGTERM", "notify interrupt",
	// "exec ./upload-logs.sh", "abandon"), empty for a bare transition.
	Action string
	// Target names the receiver of Action ("group", "tree", "job").
	Target string
	// Result is the outcome of Action: "ok" or the error's text.
	Result string
	// Next, when non-zero, is the offset from t0 of the next scheduled
	// step and NextAction describes it; status lines use it for the
	// countdown.
	Next       time.Duration
	NextAction string
	// NextSignal describes what the next delivery of the last signal
	// received would do ("exit"), for "Ctrl-C again to exit now".
	NextSignal string
	// LastSignal is the last signal received ("SIGINT"), the one
	// NextSignal is about.
	LastSignal string
	// Elapsed is the time since Run started.
	Elapsed time.Duration
	// Outcome is set once the outcome is decided; Status is set on the
	// event entering the final state, with the exit status of the run.
	Outcome Outcome
	Status  int
}

// Sink receives events. Emit is called for one engine's events one at a
// time and in order, from the goroutine running that engine (see Target);
// it must not block for long. A sink shared by several engines is called
// from several goroutines.
type Sink interface {
	Emit(Event)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(Event)

// Emit calls f(e).
func (f SinkFunc) Emit(e Event) { f(e) }
