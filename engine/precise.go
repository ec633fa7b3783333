package engine

import "time"

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
// next due time: a kernel timer on a PreciseClock where one can be had,
// else the clock's own.
func loopTimer(c Clock, d time.Duration) Timer {
	if _, ok := c.(PreciseClock); ok {
		if t := newKernelTimer(d); t != nil {
			return t
		}
	}
	return c.NewTimer(d)
}

// closeTimer releases what a loop timer holds beyond a runtime timer.
func closeTimer(t Timer) {
	t.Stop()
	if k, ok := t.(interface{ close() }); ok {
		k.close()
	}
}
