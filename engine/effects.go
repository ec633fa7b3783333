package engine

import (
	"strconv"
	"time"
)

// This file is what the core asks of the target. Signalling, notifying and
// abandoning are effects: the core describes one and its driver carries it
// out (driver.go). The real driver does so on a goroutine of its own and
// waits for the answer only briefly (effectHold), so a target that takes
// long (a walk of a churning process tree) delays only its own event line,
// never the next step, the deadline or another input for long.

type effectKind uint8

const (
	effSignal effectKind = iota
	effForward
	effNotify
	effAbandon
)

// effect is one request to the target.
type effect struct {
	kind  effectKind
	sig   string // effSignal, effForward
	scope Scope  // effSignal
	msg   string // effNotify
}

// perform carries out e on t.
func (e effect) perform(t Target) error {
	switch e.kind {
	case effSignal:
		return t.Signal(e.sig, e.scope)
	case effForward:
		if f, ok := t.(Forwarder); ok {
			return f.Forward(e.sig)
		}
		return t.Signal(e.sig, ScopeGroup)
	case effNotify:
		return t.Notify(e.msg)
	default:
		return t.Abandon()
	}
}

// lateEffect is the answer of an effect that was still running when its
// event went out (with result "pending").
type lateEffect struct {
	ev   what
	err  error
	took time.Duration // from the request to the answer
}

// pendingResult is the result of an effect's event when the answer is
// not in yet; a second event gives it once it is (effectDone).
const pendingResult = "pending"

// act has the driver carry out e and returns ev with the result filled in.
func (m *machine) act(now time.Time, e effect, ev what) what {
	err, pending := m.drv.do(m, now, e, ev)
	if pending {
		ev.result = pendingResult
	} else {
		ev.result = result(err)
	}
	return ev
}

// effectDone reports the late answer of an effect.
func (m *machine) effectDone(now time.Time, l *lateEffect) {
	ev := l.ev
	ev.result = result(l.err) + " (after " + strconv.FormatFloat(l.took.Seconds(), 'f', 3, 64) + "s)"
	m.note(now, ev)
}
