package engine

import (
	"sync"
	"time"
)

// PreciseClock is RealClock for an engine whose steps must fire on time to
// within tens of microseconds, as a supervisor's SIGKILL step must. Its
// Now, NewTimer and AfterFunc are RealClock's; the difference is in how
// Run waits for the engine's next due time. On RealClock that is a runtime
// timer, and when the process is idle the Go runtime sleeps for it in
// epoll_wait, whose timeout counts whole milliseconds: a step fires up to
// about a millisecond late. On PreciseClock (on Linux) Run arms a kernel
// timer instead, a timerfd that the runtime's poller watches, and the
// kernel wakes the poller when it expires, and Run sleeps the last
// millisecond before a due step on its own thread, so that the kernel
// wakes the thread that takes the step (see finish). Elsewhere, or when a
// timerfd cannot be had, it falls back to the runtime timer.
//
// Each engine running on a PreciseClock holds one file descriptor and one
// parked goroutine while Run runs. Do not use it inside a testing/synctest
// bubble: the bubble's fake time does not reach a kernel timer.
type PreciseClock struct{ RealClock }

// loopTimer returns the timer the real driver waits on for the engine's
// next due time, armed for d: a kernel timer on a PreciseClock where one
// can be had (spare's, when Rehearse made one ready), else the clock's
// own.
func loopTimer(c Clock, d time.Duration, spare *spareTimer) Timer {
	if _, ok := c.(PreciseClock); ok {
		t := spare.take()
		if t == nil {
			t = newKernelTimer()
		}
		if t != nil {
			t.Reset(d)
			return t
		}
	}
	return c.NewTimer(d)
}

// spareTimer is the loop timer of an engine on a PreciseClock, made ready
// before the loop needs it. The loop first needs a timer when a step
// falls due later, which is when the first cancel comes: making a kernel
// timer then (a timerfd, its registration with the runtime's poller, the
// goroutine that reads it) cost some 40 µs of the loop's thread and woke
// another, while the job, just signalled, had its own reaction to run on
// the same cores (perf, 80 interleaved pairs after 300 ms: the job's part
// 160 µs under graceful, 138 µs with the timer made beforehand, 123 µs
// under the Go floor). Rehearse makes it, on its own goroutine, once the
// job has lived a while; the loop takes it at its first arm, and Run
// closes it if the loop never did.
type spareTimer struct {
	mu   sync.Mutex
	t    Timer // made, not yet taken
	done bool  // taken, or the run is over: make none
}

// prepare makes the spare on a PreciseClock, unless one was made or
// taken or the run is over.
func (s *spareTimer) prepare(c Clock) {
	if _, ok := c.(PreciseClock); !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || s.t != nil {
		return
	}
	s.t = newKernelTimer()
	s.done = s.t == nil // none to be had: do not ask again
}

// take returns the spare, nil when there is none, and has prepare make no
// other.
func (s *spareTimer) take() Timer {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.t
	s.t, s.done = nil, true
	return t
}

// closeTimer releases what a loop timer holds beyond a runtime timer.
func closeTimer(t Timer) {
	t.Stop()
	if k, ok := t.(interface{ close() }); ok {
		k.close()
	}
}
