//go:build linux

package process

import (
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// supervisorNice is the nice value RaisePriority gives graceful's threads.
const supervisorNice = -5

// supervisorSlice is the time slice RaisePriority asks for graceful's
// threads (sched_attr's sched_runtime for SCHED_NORMAL, Linux 6.12 and
// later; earlier kernels ignore it). A thread woken with a slice shorter
// than the running task's preempts it (the scheduler's PREEMPT_SHORT),
// where otherwise it waits for the running task's slice, up to a few
// milliseconds: a due step's thread, woken on time, waited 2.7 ms behind
// another graceful's start-up in the escalation bench. A short slice
// gives no larger share of the CPU, so the kernel lets any process ask
// for it.
const supervisorSlice = 100_000 // ns, the kernel's least

// RaisePriority makes this process's threads run before the job's when the
// CPU is short: a job that keeps every core busy (a build forking
// compilers) would otherwise delay the timeline's steps by tens of
// milliseconds. Each thread gets nice -5 and the short slice
// supervisorSlice, with SCHED_FLAG_RESET_ON_FORK, so every process
// forked from here (the job, commands, the guardian) starts at nice 0 and
// the default slice again. The flag resets a new thread too: a thread the
// Go runtime starts later (it does when a command's start or a blocking
// system call holds one) would run the timeline at nice 0, so from the
// first raise on the threads are looked at every threadWatchEvery and
// after each signal sent, and new ones are given the raised scheduling
// (keepRaised). The nice is only raised from nice 0 (a graceful started
// under `nice` keeps what it was given) and needs CAP_SYS_NICE; the slice
// is asked for in any case. It is a func() as engine.Config.Urgent and
// Options.Urgent take it, and may be called again.
func RaisePriority() { raisePriority() }

// raisePriority is RaisePriority; it reports whether it raised the nice.
func raisePriority() bool {
	n, err := unix.Getpriority(unix.PRIO_PROCESS, 0) // the raw value is 20 - nice
	if err != nil {
		return false
	}
	nice := int32(20 - n)
	raise := nice == 0
	raised := false
	if !eachThread(func(tid int, _ bool) {
		if raise && setSched(tid, supervisorNice) {
			raised = true
			return
		}
		setSched(tid, nice) // the slice alone
	}) {
		return false
	}
	if raised {
		raisedTo.Store(supervisorNice)
	} else {
		raisedTo.Store(nice)
	}
	if !priorityRaised.Swap(true) {
		go watchThreads()
	}
	return raised
}

// priorityRaised is set once RaisePriority has run, and raisedTo is the
// nice it gave the threads (the one they had when it did not raise it).
var (
	priorityRaised atomic.Bool
	raisedTo       atomic.Int32
)

// threads are the thread ids given the raised scheduling, as last seen.
var threads struct {
	sync.Mutex
	tids map[int]bool
}

// threadWatchEvery is how often, once raised, the threads are looked at
// for new ones. The runtime starts a thread when one is held in a system
// call (sysmon hands its work on within its 10 ms tick), as a command's
// start holds one; a new thread waits at most this long at nice 0.
const threadWatchEvery = 20 * time.Millisecond

// watchThreads runs keepRaised every threadWatchEvery, for the rest of the
// process's life: one read of /proc/self/task each, and a system call only
// for a thread not seen before.
func watchThreads() {
	t := time.NewTicker(threadWatchEvery)
	for range t.C {
		keepRaised()
	}
}

// keepRaised gives the threads started since RaisePriority (which the
// reset-on-fork flag left at nice 0 and the default slice) what the others
// have. It does nothing before RaisePriority. It costs a read of
// /proc/self/task and a system call per thread not seen before.
func keepRaised() {
	if !priorityRaised.Load() {
		return
	}
	nice := raisedTo.Load()
	eachThread(func(tid int, seen bool) {
		if !seen {
			setSched(tid, nice)
		}
	})
}

// eachThread calls f for each thread of this process, saying whether
// the thread was there at the last look, and remembers the threads as they
// are now (threads.tids); it reports false if /proc/self/task cannot be
// read. A thread whose id is that of a thread gone since the last look
// (the kernel reuses an id only after going through all of them) is taken
// for the one before.
func eachThread(f func(tid int, seen bool)) bool {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return false
	}
	threads.Lock()
	defer threads.Unlock()
	now := make(map[int]bool, len(tasks))
	for _, t := range tasks {
		if tid, err := strconv.Atoi(t.Name()); err == nil {
			now[tid] = true
			f(tid, threads.tids[tid])
		}
	}
	threads.tids = now
	return true
}

// setSched gives thread tid nice and the short slice, or nice alone where
// the kernel refuses the slice; it reports whether nice was set.
func setSched(tid int, nice int32) bool {
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_NORMAL, Flags: unix.SCHED_FLAG_RESET_ON_FORK, Nice: nice, Runtime: supervisorSlice}
	err := unix.SchedSetAttr(tid, &attr, 0)
	if err == unix.EINVAL {
		attr.Runtime = 0
		err = unix.SchedSetAttr(tid, &attr, 0)
	}
	return err == nil
}
