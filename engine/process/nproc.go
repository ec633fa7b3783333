//go:build linux

package process

import (
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// A job that forks until its uid's process limit (RLIMIT_NPROC, which
// counts threads too) would leave graceful unable to start a thread, and
// the Go runtime aborts when it needs one and cannot have it: the timeline
// would stop with the job still running. Two measures keep graceful alive:
//
//   - The job starts with a soft RLIMIT_NPROC lower than graceful's own by
//     nprocReserve (a quarter of the limit when that is less), so that the
//     job's forks fail while graceful may still start threads and its
//     commands. graceful lowers its own soft limit for the fork and
//     restores it at once; the job inherits the lowered value and may
//     raise it again up to the hard limit, as any process may.
//   - reserveThreads starts, before the job, enough threads that the
//     runtime has idle ones to hand when a pids cgroup (which no rlimit
//     reaches) is full.
const nprocReserve = 32

// nprocMu serialises the lowering and restoring of the soft limit, which is
// the whole process's, between concurrent starts.
var nprocMu sync.Mutex

// lowerNproc lowers the process's soft RLIMIT_NPROC for a fork and returns
// the function that restores it. Without a finite limit it does nothing.
func lowerNproc() (restore func()) {
	nprocMu.Lock()
	var old unix.Rlimit
	if err := unix.Prlimit(0, unix.RLIMIT_NPROC, nil, &old); err != nil || old.Cur == unix.RLIM_INFINITY || old.Cur < 2 {
		nprocMu.Unlock()
		return func() {}
	}
	lowered := old
	lowered.Cur -= min(nprocReserve, old.Cur/4)
	if err := unix.Prlimit(0, unix.RLIMIT_NPROC, &lowered, nil); err != nil {
		nprocMu.Unlock()
		return func() {}
	}
	return func() {
		_ = unix.Prlimit(0, unix.RLIMIT_NPROC, &old, nil)
		nprocMu.Unlock()
	}
}

// threadReserve is how many threads graceful makes sure it has before the
// job starts. A supervising graceful runs on 8 or 9 (GOMAXPROCS 2); the
// runtime reuses idle threads and never ends them, so with these in hand
// it does not need to start another while the job has the limit used up.
const threadReserve = 12

// reserveThreads makes the runtime start threads until the process has
// about threadReserve: each of n goroutines holds a thread of its own
// until all have one, and then lets it go back to the runtime's idle list.
func reserveThreads() {
	n := threadReserve - threadCount()
	if n <= 0 {
		return
	}
	var held sync.WaitGroup
	held.Add(n)
	release := make(chan struct{})
	for range n {
		go func() {
			runtime.LockOSThread()
			held.Done()
			<-release
			runtime.UnlockOSThread()
		}()
	}
	held.Wait()
	close(release)
}

// threadCount is the number of threads of this process, from
// /proc/self/stat's num_threads; 0 when it cannot be read.
func threadCount() int {
	b, err := readFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	st, _ := parseStat(0, b)
	return st.threads
}
