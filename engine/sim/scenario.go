package sim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/graceful-sh/graceful/engine"
)

// ParseBehaviour reads a job description: comma-separated clauses from
//
//	exits-on-term     dies of the first signal; exits (code) when notified
//	exits-after=DUR   handles the first signal or notification, exits DUR later
//	ignores-term      ignores every signal but SIGKILL (also: never)
//	never             never exits on its own and ignores signals
//	exits-at=DUR      exits on its own DUR after it started
//	code=N            the status of its own exits (default 0)
//	exec-takes=DUR    how long each command step and the finalisation run
//	exec-fails        those commands fail
//
// A description without a reaction (only exits-at, say) dies of the first
// signal, like a program that does not handle signals.
func ParseBehaviour(s string) (Behaviour, error) {
	b := Behaviour{Reaction: Dies}
	for _, c := range strings.Split(s, ",") {
		c = strings.TrimSpace(c)
		key, val, hasVal := strings.Cut(c, "=")
		var err error
		switch key {
		case "exits-on-term":
			b.Reaction = Dies
		case "ignores-term", "never":
			b.Reaction = Ignores
		case "exits-after":
			b.Reaction = ExitsAfter
			b.After, err = parseDuration(val, hasVal)
		case "exits-at":
			b.At, err = parseDuration(val, hasVal)
			if err == nil && b.At <= 0 {
				err = errors.New("must be positive")
			}
		case "code":
			b.Code, err = strconv.Atoi(val)
		case "exec-takes":
			b.ExecTakes, err = parseDuration(val, hasVal)
		case "exec-fails":
			b.ExecErr = errors.New("exit status 1")
		default:
			return b, fmt.Errorf("job %q: unknown clause %q (want exits-on-term, exits-after=DUR, ignores-term, never, exits-at=DUR, code=N, exec-takes=DUR, exec-fails)", s, c)
		}
		if err != nil {
			return b, fmt.Errorf("job %q: %s: %w", s, key, err)
		}
	}
	return b, nil
}

func parseDuration(s string, ok bool) (time.Duration, error) {
	if !ok {
		return 0, errors.New("needs a duration (e.g. 2s)")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, errors.New("must not be negative")
	}
	return d, nil
}

// Input is something that happens to the engine at an offset from the
// start: a signal delivered to graceful, or a Cancel call.
type Input struct {
	At time.Duration
	// Signal is the signal name ("SIGINT"); empty for a Cancel.
	Signal string
	// Cancel is the cause given to Engine.Cancel ("api", "timeout").
	Cancel string
}

// UnknownSignalError is ParseInput's error for a WHAT that names no signal.
type UnknownSignalError struct {
	Spec string // the whole OFFSET:WHAT
	Name string // WHAT as given
}

func (e *UnknownSignalError) Error() string {
	return fmt.Sprintf("signal %q: unknown signal %q", e.Spec, e.Name)
}

// ParseInput reads "OFFSET:WHAT": WHAT is a signal name (SIGINT, or INT),
// "cancel" (an API cancel) or "timeout" (as graceful run --timeout).
func ParseInput(s string) (Input, error) {
	off, what, ok := strings.Cut(s, ":")
	if !ok {
		return Input{}, fmt.Errorf("signal %q: want OFFSET:SIGNAL, e.g. 1.5s:SIGINT", s)
	}
	d, err := time.ParseDuration(off)
	if err != nil || d < 0 {
		return Input{}, fmt.Errorf("signal %q: bad offset %q (want a duration like 0s or 1.5s)", s, off)
	}
	what = strings.TrimSpace(what)
	switch strings.ToLower(what) {
	case "cancel", "api":
		return Input{At: d, Cancel: "api"}, nil
	case "timeout":
		return Input{At: d, Cancel: "timeout"}, nil
	}
	name := strings.ToUpper(what)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if engine.SignalNumber(name) == 0 {
		return Input{}, &UnknownSignalError{Spec: s, Name: what}
	}
	return Input{At: d, Signal: name}, nil
}

// Start is the virtual time every simulation starts at, so that JSON
// output is the same on every run.
func Start() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) }

// Horizon is how long a simulation may stay idle: when the job would run
// forever and nothing else is scheduled, the simulation stops this long
// after the last scheduled input.
const Horizon = time.Hour

// ErrHorizon ends a simulation in which nothing would ever happen again.
var ErrHorizon = errors.New("simulation stopped: nothing left to happen")

// Run runs the real engine for profile p against a simulated job with
// behaviour b on a virtual clock, feeding it inputs; it returns at once.
func Run(ctx context.Context, p *engine.Profile, b Behaviour, inputs []Input, sinks ...engine.Sink) (engine.Result, *Job, error) {
	vc := engine.NewVirtualClock(Start())
	job := NewJob(b, vc)
	e, err := engine.New(engine.Config{Profile: p, Target: job, Clock: vc, Sinks: sinks})
	if err != nil {
		return engine.Result{}, nil, err
	}
	last := b.At
	for _, in := range inputs {
		last = max(last, in.At)
		switch {
		case in.At == 0 && in.Cancel != "":
			e.Cancel(in.Cancel)
		case in.At == 0:
			e.Deliver(in.Signal)
		case in.Cancel != "":
			vc.AfterFunc(in.At, func() { e.Cancel(in.Cancel) })
		default:
			vc.AfterFunc(in.At, func() { e.Deliver(in.Signal) })
		}
	}
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	vc.AfterFunc(last+Horizon, func() { stop(ErrHorizon) })
	return e.Run(ctx), job, nil
}
