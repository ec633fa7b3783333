package engine

import (
	"context"
	"slices"
	"sync"
	"time"
)

// inbox holds the inputs other goroutines hand to a machine: signals and
// Cancel calls from anywhere, and what the drivers forward (Run starting on
// a SharedClock, the job's end, a finished command, the late answer of an
// effect). It is the only part of a machine shared between goroutines.
type inbox struct {
	mu    sync.Mutex
	items []input
	wake  chan struct{} // the real and virtual drivers wait on it
}

type inputKind uint8

const (
	inSignal inputKind = iota
	inCancel
	inEffect // the late answer of an effect (effects.go)
	// The rest are forwarded by Run's goroutine on a SharedClock.
	inBegin
	inJob
	inExec
	inAbort
)

// input is something for the core, stamped when it arrived.
type input struct {
	kind inputKind
	name string
	at   time.Time
	ctx  context.Context // inBegin
	exit Exit            // inJob
	ok   bool            // inJob: Done was not closed
	res  execResult      // inExec
	late *lateEffect     // inEffect
}

// deliver and cancel may be called from any goroutine, before or during Run.
func (m *machine) deliver(sig string)  { m.push(input{kind: inSignal, name: sig, at: m.clock.Now()}) }
func (m *machine) cancel(cause string) { m.push(input{kind: inCancel, name: cause, at: m.clock.Now()}) }

// push adds in to the inbox and wakes whatever runs the core. Signals,
// Cancel calls and Run starting are urgent: they may start a timeline.
func (m *machine) push(in input) {
	m.enqueue(in)
	m.drv.woken(m, in.kind != inJob && in.kind != inExec && in.kind != inEffect)
}

// enqueue adds in to the inbox without waking anything: for the loop
// itself (a signal the real driver read from Config.Signals).
func (m *machine) enqueue(in input) {
	m.inbox.mu.Lock()
	m.inbox.items = append(m.inbox.items, in)
	m.inbox.mu.Unlock()
}

// wakeLoop wakes a driver waiting on the inbox's channel.
func (m *machine) wakeLoop() {
	select {
	case m.inbox.wake <- struct{}{}:
	default:
	}
}

// hasInput reports whether inputs wait in the inbox.
func (m *machine) hasInput() bool {
	m.inbox.mu.Lock()
	defer m.inbox.mu.Unlock()
	return len(m.inbox.items) > 0
}

// takeInputs empties the inbox.
func (m *machine) takeInputs() []input {
	m.inbox.mu.Lock()
	in := m.inbox.items
	m.inbox.items = nil
	m.inbox.mu.Unlock()
	return in
}

// takeBegin begins the run if Run's start is in the inbox (SharedClock),
// leaving the inputs that came before it there, and reports whether it did.
func (m *machine) takeBegin() bool {
	m.inbox.mu.Lock()
	i := slices.IndexFunc(m.inbox.items, func(x input) bool { return x.kind == inBegin })
	if i < 0 {
		m.inbox.mu.Unlock()
		return false
	}
	b := m.inbox.items[i]
	m.inbox.items = slices.Delete(slices.Clone(m.inbox.items), i, i+1)
	m.inbox.mu.Unlock()
	m.begin(b.ctx, b.at)
	return true
}
