package engine

import (
	"runtime"
	"slices"
	"sync/atomic"
	"time"
)

// SharedClock is real time for many engines in one process. Engines whose
// Config.Clock is the same SharedClock keep no timer and do no work of
// their own: one goroutine owns a heap of every engine's next due time,
// takes the signals, Cancel calls and job ends handed to any of them, and
// runs their machines, splitting the work across CPUs when many fall due
// together. Thousands of engines due at the same instant then cost one
// wake-up, not thousands, and no goroutine waits behind another's lock.
//
// The price: targets' Signal/Notify/Abandon and sinks run on the clock's
// goroutines, so they must be quick (a signal send, a buffered write). An
// engine on a SharedClock otherwise behaves as on RealClock, but for one
// tie: the job's end reaches it through Run's goroutine, so a step due at
// the very instant the job died may still be sent (docs/timeline.md).
type SharedClock struct {
	base    time.Time               // heap keys are nanoseconds since base: cheap to compare
	kicks   atomic.Pointer[machine] // engines with urgent inputs
	later   atomic.Pointer[machine] // engines with other inputs
	wake    chan struct{}
	running atomic.Bool

	// Owned by the clock's goroutine.
	q     sharedQueue
	batch []*machine
}

// sharedQueue is the clock's heap of due times. Its items hold the key
// and a slot number, and where each slot sits in the heap is kept in
// pos, so that ordering the heap reads and writes only these dense
// arrays: in a burst the machines themselves are cold in the cache, and
// a heap that compared or indexed through them took milliseconds to pop
// a few thousand.
type sharedQueue struct {
	items []sharedItem
	pos   []int32    // slot -> index in items
	slots []*machine // slot -> machine, nil when free
	free  []int32
}

type sharedItem struct {
	at   time.Duration // since SharedClock.base
	slot int32
}

// NewSharedClock returns a shared real-time clock. Its goroutine runs only
// while some engine has something due.
func NewSharedClock() *SharedClock {
	return &SharedClock{base: time.Now(), wake: make(chan struct{}, 1)}
}

// Now returns time.Now().
func (*SharedClock) Now() time.Time { return time.Now() }

// NewTimer returns a runtime timer; the engines on the clock do not use it.
func (*SharedClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

// AfterFunc calls f on its own goroutine after d, like time.AfterFunc.
func (*SharedClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{time.AfterFunc(d, f)}
}

// sharedEntry is an engine's place in the heap (slot -1 when absent; the
// queue keeps it) and, after the engine ran, where it wants to be (due,
// ok).
type sharedEntry struct {
	slot int32
	due  time.Time
	ok   bool
}

// kick queues m, which has new inputs, for the clock's goroutine. It never
// blocks: a lock-free stack, an engine at most once in it. Signals, Cancel
// calls and Run starting are urgent: they may start a timeline. What Run's
// goroutines forward (the job's end, a finished command) waits while
// engines are due, so that a burst of job ends does not delay due steps.
func (c *SharedClock) kick(m *machine, urgent bool) {
	q, flag, next := &c.later, &m.shared.kickedLater, &m.shared.nextLater
	if urgent {
		q, flag, next = &c.kicks, &m.shared.kicked, &m.shared.nextKick
	}
	if !flag.CompareAndSwap(false, true) {
		return
	}
	for {
		old := q.Load()
		*next = old
		if q.CompareAndSwap(old, m) {
			break
		}
	}
	if c.running.CompareAndSwap(false, true) {
		go c.run()
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// run is the clock's goroutine: take the engines due and those with urgent
// inputs (or, when there are none, those with other inputs), run them, put
// them back in the heap, sleep until the next is due or a kick; exit when
// there is nothing left.
func (c *SharedClock) run() {
	var t *time.Timer
	deferred := time.Duration(-1) // when other inputs were first put off
	for {
		batch := c.batch[:0]
		now := time.Since(c.base)
		for c.q.len() > 0 && c.q.items[0].at <= now {
			m := c.q.pop()
			m.shared.inBatch = true
			batch = append(batch, m)
		}
		batch = takeKicks(batch, &c.kicks, func(m *machine) (*machine, *atomic.Bool) { return m.shared.nextKick, &m.shared.kicked })
		switch {
		case c.later.Load() == nil:
		case len(batch) == 0 || (deferred >= 0 && now-deferred >= laterDelay):
			batch = takeKicks(batch, &c.later, func(m *machine) (*machine, *atomic.Bool) { return m.shared.nextLater, &m.shared.kickedLater })
			deferred = -1
		case deferred < 0:
			deferred = now
		}
		if len(batch) > 0 {
			c.runBatch(batch)
			for _, m := range batch {
				m.shared.inBatch = false
				c.place(m)
			}
			clear(batch)
			c.batch = batch
			continue
		}
		if c.q.len() == 0 {
			c.running.Store(false)
			if (c.kicks.Load() != nil || c.later.Load() != nil) && c.running.CompareAndSwap(false, true) {
				continue // a kick raced with leaving
			}
			if t != nil {
				t.Stop()
			}
			return
		}
		d := c.q.items[0].at - now
		if t == nil {
			t = time.NewTimer(d)
		} else {
			t.Reset(d)
		}
		select {
		case <-t.C:
		case <-c.wake:
			t.Stop()
		}
	}
}

// takeKicks empties a kick stack into batch, oldest kick first: the
// stack holds the newest on top, and the engine kicked first has waited
// longest.
func takeKicks(batch []*machine, q *atomic.Pointer[machine], link func(*machine) (*machine, *atomic.Bool)) []*machine {
	from := len(batch)
	for m := q.Swap(nil); m != nil; {
		next, flag := link(m)
		flag.Store(false) // inputs from now on kick again
		if !m.shared.inBatch {
			m.shared.inBatch = true
			batch = append(batch, m)
		}
		m = next
	}
	slices.Reverse(batch[from:])
	return batch
}

// place moves m in the heap to where its last run asked.
func (c *SharedClock) place(m *machine) {
	e := &m.shared.entry
	if !e.ok {
		if e.slot >= 0 {
			c.q.remove(m)
		}
		return
	}
	switch at := e.due.Sub(c.base); {
	case e.slot < 0:
		c.q.push(m, at)
	case c.q.key(m) != at:
		c.q.fix(m, at)
	}
}

// laterDelay bounds how long other inputs wait for due engines, so that a
// steady stream of due steps cannot starve the job ends.
const laterDelay = 20 * time.Millisecond

// sharedChunk is the smallest batch worth splitting across CPUs.
const sharedChunk = 256

func (c *SharedClock) runBatch(batch []*machine) {
	n := runtime.GOMAXPROCS(0)
	if n < 2 || len(batch) < 2*sharedChunk {
		for _, m := range batch {
			m.fireShared()
		}
		return
	}
	// Workers take chunks in due order until none is left. The clock's
	// goroutine works too and waits only for chunks already taken: a
	// helper the scheduler starts late (its CPU busy with the Run
	// goroutines the last batch woke) finds nothing left and costs
	// nothing, where fixed shares would leave its part waiting for it.
	var next, left atomic.Int64
	left.Store(int64(len(batch)))
	finished := make(chan struct{}, 1)
	work := func() {
		for {
			i := int(next.Add(sharedChunk)) - sharedChunk
			if i >= len(batch) {
				return
			}
			part := batch[i:min(i+sharedChunk, len(batch))]
			for _, m := range part {
				m.fireShared()
			}
			if left.Add(-int64(len(part))) == 0 {
				finished <- struct{}{}
			}
		}
	}
	for range min(n-1, len(batch)/sharedChunk-1) {
		go work()
	}
	work()
	<-finished
}

func (q *sharedQueue) len() int { return len(q.items) }

// push adds m, which is not in the heap, due at at.
func (q *sharedQueue) push(m *machine, at time.Duration) {
	var slot int32
	if n := len(q.free); n > 0 {
		slot = q.free[n-1]
		q.free = q.free[:n-1]
		q.slots[slot] = m
	} else {
		slot = int32(len(q.slots))
		q.slots = append(q.slots, m)
		q.pos = append(q.pos, 0)
	}
	m.shared.entry.slot = slot
	q.items = append(q.items, sharedItem{at, slot})
	q.pos[slot] = int32(len(q.items) - 1)
	q.up(len(q.items) - 1)
}

// pop removes the earliest item and returns its machine.
func (q *sharedQueue) pop() *machine {
	m := q.slots[q.items[0].slot]
	q.remove(m)
	return m
}

// key is when m, which is in the heap, is due.
func (q *sharedQueue) key(m *machine) time.Duration { return q.items[q.pos[m.shared.entry.slot]].at }

// remove takes m out of the heap and frees its slot.
func (q *sharedQueue) remove(m *machine) {
	slot := m.shared.entry.slot
	i, last := int(q.pos[slot]), len(q.items)-1
	if i != last {
		q.swap(i, last)
	}
	q.items = q.items[:last]
	if i != last && !q.down(i) {
		q.up(i)
	}
	q.slots[slot] = nil
	q.free = append(q.free, slot)
	m.shared.entry.slot = -1
}

// fix moves m, which is in the heap, to its new time at.
func (q *sharedQueue) fix(m *machine, at time.Duration) {
	i := int(q.pos[m.shared.entry.slot])
	q.items[i].at = at
	if !q.down(i) {
		q.up(i)
	}
}

func (q *sharedQueue) swap(i, j int) {
	q.items[i], q.items[j] = q.items[j], q.items[i]
	q.pos[q.items[i].slot] = int32(i)
	q.pos[q.items[j].slot] = int32(j)
}

func (q *sharedQueue) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if q.items[p].at <= q.items[i].at {
			return
		}
		q.swap(i, p)
		i = p
	}
}

// down sifts item i down and reports whether it moved.
func (q *sharedQueue) down(i int) bool {
	start, n := i, len(q.items)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && q.items[r].at < q.items[l].at {
			j = r
		}
		if q.items[i].at <= q.items[j].at {
			break
		}
		q.swap(i, j)
		i = j
	}
	return i > start
}
