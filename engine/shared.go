package engine

import (
	"container/heap"
	"context"
	"runtime"
	"sync"
	"time"
)

// SharedClock is real time for many engines in one process. Engines whose
// Config.Clock is the same SharedClock keep no timer of their own: one heap
// holds the next due time of every engine, and one goroutine (helped by
// one per CPU when many are due together) runs each engine's due steps and
// the signals delivered to it. Thousands of engines due at the same
// instant then cost one wake-up, not thousands.
//
// The price: targets' Signal/Notify/Abandon and sinks run on the clock's
// goroutine, serialised with everything else due on it, so they must be
// quick (a signal send, a buffered write). An engine on a SharedClock
// otherwise behaves exactly as on RealClock.
type SharedClock struct {
	base    time.Time // heap keys are nanoseconds since base: cheap to compare
	mu      sync.Mutex
	q       sharedQueue
	wake    chan struct{}
	running bool
	batch   []*machine
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

// sharedEntry is an engine's place in the heap; index -1 when absent.
type sharedEntry struct {
	at    time.Duration // since SharedClock.base
	m     *machine
	index int
}

// schedule puts m in the heap at at, or moves it there. A pending input
// (a signal or Cancel not yet handled) forces now: the check is made under
// the clock's lock, after which push's own kick cannot be overtaken.
func (c *SharedClock) schedule(m *machine, due time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.hasInput() {
		due, ok = time.Now(), true
	}
	at := due.Sub(c.base)
	e := &m.entry
	switch {
	case !ok:
		if e.index >= 0 {
			head := e.index == 0
			heap.Remove(&c.q, e.index)
			if head && c.running { // let the goroutine re-aim, or exit
				select {
				case c.wake <- struct{}{}:
				default:
				}
			}
		}
		return
	case e.index >= 0:
		if e.at == at {
			return
		}
		e.at = at
		heap.Fix(&c.q, e.index)
	default:
		e.at = at
		heap.Push(&c.q, e)
	}
	if c.q[0] != e {
		return
	}
	if !c.running {
		c.running = true
		go c.run()
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// run is the clock's goroutine: sleep until the head is due, take every
// engine due, run them, repeat; exit when nothing is left.
func (c *SharedClock) run() {
	var t *time.Timer
	for {
		c.mu.Lock()
		now := time.Since(c.base)
		batch := c.batch[:0]
		for len(c.q) > 0 && c.q[0].at <= now {
			e := heap.Pop(&c.q).(*sharedEntry)
			batch = append(batch, e.m)
		}
		if len(batch) == 0 {
			if len(c.q) == 0 {
				c.running = false
				c.mu.Unlock()
				if t != nil {
					t.Stop()
				}
				return
			}
			d := c.q[0].at - now
			c.mu.Unlock()
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
			continue
		}
		c.batch = nil // the helpers below may still read it
		c.mu.Unlock()
		c.runBatch(batch)
		clear(batch)
		c.mu.Lock()
		c.batch = batch
		c.mu.Unlock()
	}
}

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
	var wg sync.WaitGroup
	size := (len(batch) + n - 1) / n
	for i := size; i < len(batch); i += size {
		part := batch[i:min(i+size, len(batch))]
		wg.Go(func() {
			for _, m := range part {
				m.fireShared()
			}
		})
	}
	for _, m := range batch[:size] {
		m.fireShared()
	}
	wg.Wait()
}

type sharedQueue []*sharedEntry

func (q sharedQueue) Len() int           { return len(q) }
func (q sharedQueue) Less(i, j int) bool { return q[i].at < q[j].at }
func (q sharedQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *sharedQueue) Push(x any) {
	e := x.(*sharedEntry)
	e.index = len(*q)
	*q = append(*q, e)
}
func (q *sharedQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	e.index = -1
	return e
}

// fireShared runs m's due work on the clock's goroutine.
func (m *machine) fireShared() {
	m.core.Lock()
	defer m.core.Unlock()
	if m.finished || !m.live {
		return
	}
	m.step(m.clock.Now())
	m.afterShared()
}

// afterShared, with m.core held, hands m's next due time to the clock and
// wakes Run when the run is over.
func (m *machine) afterShared() {
	if m.finished {
		m.shared.schedule(m, time.Time{}, false)
		select {
		case m.wake <- struct{}{}:
		default:
		}
		return
	}
	due, ok := m.nextDue()
	m.shared.schedule(m, due, ok)
}

// runShared is Run on a SharedClock: this goroutine only waits for what
// the clock cannot see (the job's end, commands, the context) and for the
// end of the run.
func (m *machine) runShared(ctx context.Context) Result {
	m.core.Lock()
	m.live = true
	m.step(m.start)
	m.afterShared()
	m.core.Unlock()
	for {
		m.core.Lock()
		done := m.finished
		m.core.Unlock()
		if done {
			break
		}
		var x Exit
		var r execResult
		kind := 0
		select {
		case <-m.wake:
			continue
		case x2, ok := <-m.jobDone:
			if !ok {
				x2 = Exit{Abandoned: true}
			}
			x, kind = x2, 1
		case r = <-m.execCh:
			kind = 2
		case <-ctx.Done():
			kind = 3
		}
		m.core.Lock()
		now := m.clock.Now()
		switch kind {
		case 1:
			if !m.finished {
				m.jobStopped(now, x, true)
			} else {
				m.jobDone = nil
			}
		case 2:
			m.execDone(now, r)
		case 3:
			if !m.finished {
				m.end(now, EventExit, "context: "+context.Cause(ctx).Error())
			}
		}
		if !m.finished {
			m.step(now)
		}
		m.afterShared()
		m.core.Unlock()
	}
	m.awaitCut()
	return m.res
}
