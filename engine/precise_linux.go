package engine

import (
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// kernelTimer is a Timer on a timerfd (CLOCK_MONOTONIC, as Go's own
// timers). The descriptor is non-blocking, so os.File reads it through the
// runtime's poller: a goroutine parks on it and turns each expiry into a
// value on c, as a runtime timer's channel would.
type kernelTimer struct {
	fd int
	f  *os.File
	c  chan time.Time
}

// newKernelTimer returns a kernel timer, not yet armed (Reset arms it),
// or nil when the kernel has none to give.
func newKernelTimer() Timer {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil
	}
	t := &kernelTimer{fd: fd, f: os.NewFile(uintptr(fd), "timerfd"), c: make(chan time.Time, 1)}
	go t.read()
	return t
}

// read forwards expiries until the file is closed. A value left in c by an
// expiry nobody took is replaced, as a runtime timer keeps only one.
func (t *kernelTimer) read() {
	var buf [8]byte
	for {
		if _, err := t.f.Read(buf[:]); err != nil {
			return
		}
		now := time.Now()
		select {
		case <-t.c:
		default:
		}
		t.c <- now
	}
}

func (t *kernelTimer) C() <-chan time.Time { return t.c }

// Stop disarms the timer and reports whether it was armed. An expiry
// already read may still arrive on C, as the Timer interface allows.
func (t *kernelTimer) Stop() bool {
	var old unix.ItimerSpec
	var off unix.ItimerSpec
	if err := unix.TimerfdSettime(t.fd, 0, &off, &old); err != nil {
		return false
	}
	return old.Value.Sec != 0 || old.Value.Nsec != 0
}

// Reset arms the timer to expire once, d from now (at once for d <= 0).
func (t *kernelTimer) Reset(d time.Duration) {
	d = max(d, time.Nanosecond) // a zero it_value would disarm it
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(t.fd, 0, &spec, nil); err != nil {
		// Cannot happen with a valid fd and value; fire now rather than
		// never, so that the loop looks at its due time.
		select {
		case t.c <- time.Now():
		default:
		}
	}
}

func (t *kernelTimer) close() { t.f.Close() }

// sleepUntilWorks says sleepUntil sleeps on the thread itself.
const sleepUntilWorks = true

// sleepUntil sleeps for d on the calling goroutine's thread, in
// clock_nanosleep(TIMER_ABSTIME) on CLOCK_MONOTONIC (Go's own clock), so
// that an interruption (a signal handled on this thread) resumes to the
// same end.
//
// The thread's timer slack is 1 ns for the sleep: the kernel may end a
// sleep anywhere up to the slack (50 µs by default) after its end, and
// with nothing else due it ends it at the latest. A bare loop of 1 ms
// sleeps here woke 85 µs late at the median with the default slack and
// 36 µs with 1 ns. The slack goes back to what it was after the sleep:
// a process forked from this thread later (a finalisation command)
// inherits its thread's slack, and must get what graceful got.
func sleepUntil(d time.Duration) {
	var now unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &now) != nil {
		time.Sleep(d)
		return
	}
	end := unix.NsecToTimespec(now.Nano() + int64(d))
	runtime.LockOSThread() // the slack is the thread's
	defer runtime.UnlockOSThread()
	// Put back the slack as it was, not the thread's default (what
	// PR_SET_TIMERSLACK 0 restores): a parent may have set graceful's.
	was, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	tight := err == nil && was > 1 && unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0) == nil
	for unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &end, nil) == unix.EINTR {
	}
	if tight {
		_ = unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(was), 0, 0, 0)
	}
}
