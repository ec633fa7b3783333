package engine

import (
	"container/heap"
	"sync"
	"time"
)

// RealClock is wall-clock time. Its zero value is ready to use and it costs
// nothing beyond the time package itself.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// NewTimer returns a runtime timer.
func (RealClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

// AfterFunc calls f on its own goroutine after d, like time.AfterFunc.
func (RealClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{time.AfterFunc(d, f)}
}

// realTimer is a single pointer, so boxing it in a Timer does not allocate.
type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time   { return t.t.C }
func (t realTimer) Stop() bool            { return t.t.Stop() }
func (t realTimer) Reset(d time.Duration) { t.t.Reset(d) }

// VirtualClock is a discrete-event clock: time stands still until it is
// advanced, and then every timer and function due on the way fires in
// order of due time (ties in the order they were scheduled).
//
// An Engine whose Config.Clock is a *VirtualClock runs in virtual time: Run
// owns the clock and advances it to the next due time whenever nothing else
// is ready, so a whole cancellation timeline completes instantly and the
// same inputs always give the same events. Everything outside the engine
// must then act through the clock (AfterFunc) to keep that determinism; see
// SimulatedExec for commands.
//
// Without an Engine driving it, Advance moves it by hand.
type VirtualClock struct {
	mu  sync.Mutex
	now time.Time
	seq uint64
	q   vqueue
}

// NewVirtualClock returns a virtual clock that reads start.
func NewVirtualClock(start time.Time) *VirtualClock {
	return &VirtualClock{now: start}
}

// Now returns the virtual time.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer whose channel receives the virtual time when
// the clock reaches now+d. The channel has room for one value, so firing
// never blocks the clock.
func (c *VirtualClock) NewTimer(d time.Duration) Timer {
	t := &vtimer{c: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	c.schedule(t, d)
	c.mu.Unlock()
	return t
}

// AfterFunc calls f, on the goroutine advancing the clock, when the clock
// reaches now+d. f may use the clock (schedule, read Now) but must not
// advance it.
func (c *VirtualClock) AfterFunc(d time.Duration, f func()) Timer {
	t := &vtimer{c: c, f: f}
	c.mu.Lock()
	c.schedule(t, d)
	c.mu.Unlock()
	return t
}

// Advance moves the clock forward by d, firing everything due up to and
// including the new time.
func (c *VirtualClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for c.fireNext(end) {
	}
	c.mu.Lock()
	if end.After(c.now) {
		c.now = end
	}
	c.mu.Unlock()
}

// next reports the due time of the earliest pending timer.
func (c *VirtualClock) next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.q) == 0 {
		return time.Time{}, false
	}
	return c.q[0].at, true
}

// advanceTo sets the clock to at (never backwards) without firing anything;
// the caller has checked that nothing is due before at.
func (c *VirtualClock) advanceTo(at time.Time) {
	c.mu.Lock()
	if at.After(c.now) {
		c.now = at
	}
	c.mu.Unlock()
}

// fireNext fires the earliest timer if it is due at or before end, moving
// the clock to its due time. It reports whether it fired one.
func (c *VirtualClock) fireNext(end time.Time) bool {
	c.mu.Lock()
	if len(c.q) == 0 || c.q[0].at.After(end) {
		c.mu.Unlock()
		return false
	}
	t := heap.Pop(&c.q).(*vtimer)
	t.index = -1
	if t.at.After(c.now) {
		c.now = t.at
	}
	now := c.now
	c.mu.Unlock()
	if t.f != nil {
		t.f()
	} else {
		select {
		case t.ch <- now:
		default:
		}
	}
	return true
}

func (c *VirtualClock) schedule(t *vtimer, d time.Duration) {
	if d < 0 {
		d = 0
	}
	c.seq++
	t.at, t.seq = c.now.Add(d), c.seq
	heap.Push(&c.q, t)
}

type vtimer struct {
	c     *VirtualClock
	ch    chan time.Time
	f     func()
	at    time.Time
	seq   uint64
	index int // in c.q; -1 when not pending
}

func (t *vtimer) C() <-chan time.Time { return t.ch }

func (t *vtimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&t.c.q, t.index)
	t.index = -1
	return true
}

func (t *vtimer) Reset(d time.Duration) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.index >= 0 {
		heap.Remove(&t.c.q, t.index)
	}
	if t.ch != nil { // a Reset timer never delivers a stale value
		select {
		case <-t.ch:
		default:
		}
	}
	t.c.schedule(t, d)
}

type vqueue []*vtimer

func (q vqueue) Len() int { return len(q) }
func (q vqueue) Less(i, j int) bool {
	if q[i].at.Equal(q[j].at) {
		return q[i].seq < q[j].seq
	}
	return q[i].at.Before(q[j].at)
}
func (q vqueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *vqueue) Push(x any) {
	t := x.(*vtimer)
	t.index = len(*q)
	*q = append(*q, t)
}
func (q *vqueue) Pop() any {
	old := *q
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return t
}
