package engine

import (
	"context"
	"fmt"
	"time"
)

// This file turns the machine's transitions into Events for the sinks.

// what describes an event for the sinks: the machine keeps these four
// strings small on its stack and builds an Event only when there is a sink.
type what struct {
	cause, action, target, result string
}

// transition fires a machine event and reports it.
func (m *machine) transition(now time.Time, event string, ev what) {
	if err := m.fsm.Event(context.Background(), event); err != nil {
		m.badTransition(event, err)
	}
	from := m.state
	m.state = m.fsm.Current()
	m.emit(now, from, m.state, ev)
}

// badTransition panics: the table comes from machineEvents and every call
// site fires only events valid in the current state, so this is a bug.
//
//go:noinline
func (m *machine) badTransition(event string, err error) {
	panic(fmt.Sprintf("engine: %s in state %s: %v", event, m.fsm.Current(), err))
}

// note reports an action or input that did not change state.
func (m *machine) note(now time.Time, ev what) {
	m.emit(now, m.state, m.state, ev)
}

func (m *machine) emit(now time.Time, from, to string, w what) {
	if len(m.sinks) != 0 {
		m.emitSlow(now, from, to, &w)
	}
}

// emitSlow builds the Event. It is separate from emit so that without sinks
// the loop's stack stays small: thousands of parked engines each keep
// their stack, and growing it during a burst of cancellations is costly.
//
//go:noinline
func (m *machine) emitSlow(now time.Time, from, to string, w *what) {
	ev := Event{From: from, To: to, Cause: w.cause, Action: w.action, Target: w.target, Result: w.result}
	if m.finished() {
		ev.Status = m.res.Status
	}
	ev.Time = now
	ev.Elapsed = now.Sub(m.start)
	if m.cancelled {
		ev.Cancelled, ev.Since = true, now.Sub(m.t0)
	}
	if ev.Outcome == "" && m.decided() {
		ev.Outcome = m.res.Outcome
	}
	if !m.finished() {
		if m.cancelled && !m.decided() && m.next < len(m.prof.Steps) {
			ev.Next, ev.NextAction = m.prof.Steps[m.next].At, m.steps[m.next].next
		} else if m.cancelled && m.prof.Deadline > 0 {
			ev.Next, ev.NextAction = m.prof.Deadline, "deadline"
		}
		if m.lastSig != "" {
			ev.LastSignal = m.lastSig
			if acts := m.prof.Triggers[m.lastSig]; len(acts) > 0 {
				n := m.counts[0].n
				for _, c := range m.counts {
					if c.sig == m.lastSig {
						n = c.n
					}
				}
				ev.NextSignal = string(acts[min(n+1, len(acts))-1])
			}
		}
	}
	if m.holding || len(m.held) > 0 { // behind the held ones, in order
		m.held = append(m.held, ev)
		return
	}
	for _, s := range m.sinks {
		s.Emit(ev)
	}
}

// During a pass of step, events are held and given to the sinks at its
// end, or before a command starts (whose environment may point at what a
// sink wrote, GRACEFUL_RECEIPT). So a signal that cancels reaches the job
// before graceful renders the "cancelling" and step events: rendering
// them (fmt, the receipt, the outbox) is most of the code that runs on a
// first cancel, and after the start-up pages were trimmed each page of it
// is a page fault on the way to the kill. The events keep their order and
// their times; only their delivery waits, for at most the pass (an
// effect's hold, 20 ms, at worst), and on the real-time driver eventLag
// more after a pass that signalled the job (step).
func (m *machine) hold() { m.holding = true }

// eventLag is how long the real driver keeps the events of a pass that
// signalled the job before it gives them to the sinks: rendering and
// writing them (fmt, the receipt, the outbox's writer, a thread to wake)
// is work that competes with the job for the CPUs just when the job's
// handler should run. On the two-core machine of performance.md, the
// first cancel's SIGTERM reached the job's handler 40 to 100 µs later
// with the events written at once. The events keep their order and their
// times.
const eventLag = time.Millisecond

// flush gives the held events to the sinks.
func (m *machine) flush() {
	m.flushAt = time.Time{}
	for i := range m.held {
		for _, s := range m.sinks {
			s.Emit(m.held[i])
		}
		m.held[i] = Event{}
	}
	m.held = m.held[:0]
}

func result(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}
