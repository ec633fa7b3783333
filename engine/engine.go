package engine

import (
	"context"
	"errors"
	"os"
	"time"
)

// This file fixes the engine's public API so runners and the command line can
// be written against it. The interpreter behind it lives in the other files of
// the package.

// Clock is the engine's only source of time. Real time in production, a
// virtual clock in simulate and tests.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer from a Clock.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it was
	// still pending.
	Stop() bool
	// Reset re-arms the timer to fire after d.
	Reset(d time.Duration)
}

// Config is what an Engine runs.
type Config struct {
	// Profile is the policy to carry out. Required.
	Profile *Profile
	// Target is the job. Required.
	Target Target
	// Clock defaults to real time.
	Clock Clock
	// Sinks receive every event, in order.
	Sinks []Sink
	// Env is added to the environment of command steps and finalisation,
	// before the outcome variables.
	Env []string
	// Signals, when set, is a channel of caught signals (os/signal's) that
	// Run's own goroutine reads: each is delivered as Deliver would, one
	// hand-off between goroutines sooner than a goroutine of the caller's
	// could. It needs the real-time driver (RealClock, PreciseClock, or a
	// Clock of yours); New refuses it with a VirtualClock or SharedClock.
	Signals <-chan os.Signal
	// Route names each signal read from Signals ("SIGTERM"), on Run's
	// goroutine, so it must not block; ok false means the caller has
	// taken care of the signal (handed it to a goroutine of its own) and
	// the engine does not see it. Without Route a signal is named by its
	// String method.
	Route func(os.Signal) (name string, ok bool)
	// Urgent, when set, is called once, on a goroutine of its own, when
	// the timeline begins: cancellation has started and the pass that
	// started it has sent its signals and given out its events, so that
	// what Urgent does is not on the way to the job's first cancelling
	// signal (run and join raise their priority then, for the steps to
	// come). Only the real-time driver calls it; simulated runs do not.
	Urgent func()
}

// Outcome is how a run ended, from graceful's point of view.
type Outcome string

// Outcomes.
const (
	// OutcomeExited: the job exited on its own, no cancellation.
	OutcomeExited Outcome = "exited"
	// OutcomeCancelled: cancellation started and the job then stopped
	// before the deadline (happy or bittersweet path).
	OutcomeCancelled Outcome = "cancelled"
	// OutcomeAbandoned: the job was abandoned (abandon step, deadline or
	// an exit action) without its end being observed.
	OutcomeAbandoned Outcome = "abandoned"
	// OutcomeFailedToStart: the job never started (Exit.Err is set).
	OutcomeFailedToStart Outcome = "failed-to-start"
)

// Result is the end of a run.
type Result struct {
	Outcome Outcome
	// Exit is the job's end as the target reported it.
	Exit Exit
	// Status is the exit status graceful should exit with.
	Status int
	// Reason is the cause of cancellation ("signal SIGTERM #2",
	// "timeout", "deadline"), empty when there was none.
	Reason string
	// Elapsed is the time since t0 when the run ended, or since Run
	// started when there was no cancellation.
	Elapsed time.Duration
	// FinalizeErr is the finalisation's error, nil when it succeeded or
	// did not run.
	FinalizeErr error
}

// ErrConfig is wrapped by New for an unusable Config.
var ErrConfig = errors.New("engine: bad config")

// Engine carries out one Profile against one Target. Create it with New;
// the zero value is not usable. Deliver and Cancel are safe from any
// goroutine; Run must be called once.
type Engine struct {
	impl *machine
}

// New builds the engine and its state machine from cfg.
func New(cfg Config) (*Engine, error) {
	m, err := newMachine(cfg)
	if err != nil {
		return nil, err
	}
	return &Engine{impl: m}, nil
}

// Deliver hands the engine an incoming signal by name ("SIGINT"); the
// profile's triggers decide what it means. It never blocks.
func (e *Engine) Deliver(sig string) { e.impl.deliver(sig) }

// Causes of cancellation for Cancel that mean something to the engine or
// to the people reading its events. Any other text is allowed too.
const (
	// CauseTimeout: a time limit ran out (coreutils timeout's meaning); a
	// job stopped by the timeline then reports ExitCodes.Timeout (124).
	CauseTimeout = "timeout"
	// CauseAPI: a program asked for the cancel (a CI's cancel button).
	CauseAPI = "api"
	// CauseCoordinatorLost: a kubernetes job container lost its
	// coordinator.
	CauseCoordinatorLost = "coordinator lost"
)

// Cancel starts cancellation as if a cancel action had fired, with the given
// cause (CauseTimeout, CauseAPI or any text). CauseTimeout makes a stopped
// job report ExitCodes.Timeout. It never blocks; a second Cancel is logged
// and ignored.
func (e *Engine) Cancel(cause string) { e.impl.cancel(cause) }

// Run drives the machine until the outcome is decided and finalisation has
// finished or been cut off, and returns the result. If ctx is done first,
// Run abandons the job and returns.
func (e *Engine) Run(ctx context.Context) Result { return e.impl.run(ctx) }
