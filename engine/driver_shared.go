package engine

import (
	"context"
	"sync/atomic"
	"time"
)

// sharedDriver drives engines on a SharedClock (shared.go): the clock's
// goroutines run the core of every engine on it, and Run's goroutine only
// forwards what the clock cannot see. Effects run inline on the clock's
// goroutines, so a Target used on a SharedClock must answer quickly (a
// signal send, a buffered write); that is the price of thousands of
// engines costing one wake-up.
type sharedDriver struct{ c *SharedClock }

func (c *SharedClock) driver() driver { return sharedDriver{c} }

// sharedLinks are a machine's places in its SharedClock: its slot in the
// heap and its links in the clock's queues of kicked engines. entry and
// inBatch belong to the clock's goroutine; kicked and nextKick to its
// queue of urgent inputs, kickedLater and nextLater to the other.
type sharedLinks struct {
	entry       sharedEntry
	inBatch     bool
	kicked      atomic.Bool
	nextKick    *machine
	kickedLater atomic.Bool
	nextLater   *machine
	over        atomic.Bool // finished, published to Run's goroutine
}

func (sharedDriver) do(m *machine, _ time.Time, e effect, _ what) (error, bool) {
	return e.perform(m.target), false
}

func (sharedDriver) exec(m *machine, id int, argv, env []string) func() {
	return goExec(m, id, argv, env)
}

// woken queues m for the clock's goroutine (which handles the input once
// Run has begun).
func (d sharedDriver) woken(m *machine, urgent bool) { d.c.kick(m, urgent) }

// fireShared runs m's inputs and due work on a clock goroutine and notes
// when m wants to run next.
func (m *machine) fireShared() {
	e := &m.shared.entry
	if m.finished() {
		e.ok = false
		return
	}
	m.step(m.clock.Now())
	if m.finished() {
		e.ok = false
		m.shared.over.Store(true)
		m.wakeLoop()
		return
	}
	e.due, e.ok = m.nextDue()
}

// runShared is Run on a SharedClock: this goroutine hands the clock what it
// cannot see itself (Run starting, the job's end, finished commands, the
// context) and waits for the end of the run.
func (sharedDriver) run(m *machine, ctx context.Context) Result {
	m.push(input{kind: inBegin, at: m.clock.Now(), ctx: ctx})
	jobDone, ctxDone := m.target.Done(), ctx.Done()
	for !m.shared.over.Load() {
		select {
		case <-m.inbox.wake:
		case x, ok := <-jobDone:
			jobDone = nil
			m.push(input{kind: inJob, at: m.clock.Now(), exit: x, ok: ok})
		case r := <-m.cmds.done:
			m.push(input{kind: inExec, at: m.clock.Now(), res: r})
		case <-ctxDone:
			ctxDone = nil
			m.push(input{kind: inAbort, at: m.clock.Now(), name: contextCause(ctx)})
		}
	}
	m.collectCut(cutWait)
	return m.res
}
