package engine

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/looplab/fsm"
)

// The machine is the interpreter behind Engine. Its jobs are in files named
// for them:
//
//	machine.go   the machine's fields and its construction from a Profile
//	fsm.go       the states, events and transition table given to looplab/fsm
//	timeline.go  the decisions: what an input or a due time means
//	commands.go  the bookkeeping of command steps and finalisation
//	effects.go   what the core asks of the target, and late answers
//	inbox.go     the inputs other goroutines hand to the machine
//	events.go    turning transitions into Events for the sinks
//
// The core (timeline.go, commands.go, events.go) performs no I/O, reads no
// clock and starts no goroutine: it is handed the current time and inputs
// and asks its driver (driver.go: one file per kind of clock) to carry out
// effects. Only events reach sinks from the core; sinks that write to files
// or terminals sit behind an Outbox (outbox.go), so a stalled reader never
// holds up a step.

// stepInfo holds a step's precomputed names, so running a step does not
// build strings.
type stepInfo struct {
	state, cause, action, next string
}

type sigCount struct {
	sig string
	n   int
}

// machine is the interpreter behind Engine.
type machine struct {
	prof   *Profile
	target Target
	quick  QuickSignaller                 // target, when it is one: asked on every effect
	lead   LeadSignaller                  // target, when it is one: asked before a slow signal
	urgent func()                         // Config.Urgent, until called
	sigs   <-chan os.Signal               // Config.Signals, read by the real driver's wait
	route  func(os.Signal) (string, bool) // Config.Route
	clock  Clock
	drv    driver
	sinks  []Sink
	// held are the events of a pass of step not yet given to the sinks
	// (events.go: an effect goes out before the events that led to it).
	held    []Event
	holding bool
	// The events of a pass that sent the job a signal inline (only the
	// real driver does) wait until flushAt, eventLag later (see step).
	signalled bool
	flushAt   time.Time // zero: nothing lags
	env       []string
	fsm       *fsm.FSM
	steps     []stepInfo

	// The inbox is the only state shared with other goroutines.
	inbox inbox
	used  atomic.Bool

	// The real driver's loop timer, made ready by Rehearse (precise.go).
	spare spareTimer

	// On a SharedClock the clock's goroutines run the core and Run's
	// goroutine only forwards inputs (driver_shared.go).
	shared sharedLinks

	// Everything below belongs to the goroutine running the core: Run's
	// (real and virtual drivers) or the SharedClock's.
	ctx      context.Context // Run's values without its cancellation, for Exec
	jobDone  <-chan Exit     // nil once the job's end has been received
	jobEnded bool            // the job's end has been received
	cmds     commands

	start, t0  time.Time
	begun      bool
	cancelled  bool
	cause      string // what started cancellation (or draining)
	next       int    // index of the next step to run
	counts     []sigCount
	lastSig    string
	finalizeAt time.Time // finalisation's own cut-off when there is no t0
	state      string    // the fsm's current state, as of the last transition
	res        Result
}

// decided reports whether the outcome is known: steps no longer run. The
// fsm's state says it; the machine keeps no flag of its own.
func (m *machine) decided() bool { return m.state == StateFinalizing || m.state == StateDone }

// finished reports whether the run is over.
func (m *machine) finished() bool { return m.state == StateDone }

func newMachine(cfg Config) (*machine, error) {
	p := cfg.Profile
	if p == nil {
		return nil, fmt.Errorf("%w: no profile", ErrConfig)
	}
	if cfg.Target == nil {
		return nil, fmt.Errorf("%w: no target", ErrConfig)
	}
	for i := 1; i < len(p.Steps); i++ {
		if p.Steps[i].At < p.Steps[i-1].At {
			return nil, fmt.Errorf("%w: profile %q: step %q at %v comes after step %q at %v",
				ErrConfig, p.Name, p.Steps[i].Name, p.Steps[i].At, p.Steps[i-1].Name, p.Steps[i-1].At)
		}
	}
	m := &machine{
		prof:   p,
		target: cfg.Target,
		clock:  cfg.Clock,
		sinks:  cfg.Sinks,
		env:    cfg.Env,
		inbox:  inbox{wake: make(chan struct{}, 1)},
	}
	if m.clock == nil {
		m.clock = RealClock{}
	}
	m.drv = driverFor(m.clock)
	if cfg.Signals != nil {
		if _, ok := m.drv.(*realDriver); !ok {
			return nil, fmt.Errorf("%w: Signals needs the real-time driver, not a %T", ErrConfig, m.clock)
		}
		m.sigs, m.route = cfg.Signals, cfg.Route
	}
	// Asserted once here, not on the first cancel: the runtime builds the
	// interface table of a type assertion the first time it meets the
	// pair, reading type names from pages that by then are cold.
	m.urgent = cfg.Urgent
	m.quick, _ = cfg.Target.(QuickSignaller)
	m.lead, _ = cfg.Target.(LeadSignaller)
	m.shared.entry = sharedEntry{slot: -1}

	states := stepStates(p)
	m.steps = make([]stepInfo, len(p.Steps))
	nexec := 0
	for i, s := range p.Steps {
		info := stepInfo{state: states[i], cause: "step " + s.Name}
		switch s.Kind {
		case StepSignal:
			info.action, info.next = "signal "+s.Signal, s.Signal
		case StepNotify:
			info.action, info.next = "notify "+s.Notify, "notify "+s.Notify
		case StepCommand:
			info.action, info.next = "exec "+strings.Join(s.Command, " "), "command "+s.Name
			nexec++
		case StepAbandon:
			info.action, info.next = "abandon", "abandon"
		default:
			return nil, fmt.Errorf("%w: profile %q: step %q has unknown kind %q", ErrConfig, p.Name, s.Name, s.Kind)
		}
		m.steps[i] = info
	}
	if hasFinalize(p) {
		nexec++
	}
	if nexec > 0 {
		// Every exec sends exactly one result, so sends never block, even
		// after Run has returned.
		m.cmds.done = make(chan execResult, nexec)
	}
	// No callbacks: the loop acts after Event returns, never inside it
	// (calling Event from a callback deadlocks, and waiting there would
	// block the machine). Without callbacks, fsm's eight callback lookups
	// per Event hit an empty map, which keeps transitions cheap.
	m.fsm = fsm.NewFSM(StateRunning, machineEvents(p, states), nil)
	m.state = StateRunning
	return m, nil
}

// run is Engine.Run: the driver owns the loop.
func (m *machine) run(ctx context.Context) Result {
	if !m.used.CompareAndSwap(false, true) {
		panic("engine: Run called twice")
	}
	return m.drv.run(m, ctx)
}
