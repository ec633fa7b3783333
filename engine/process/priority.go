//go:build linux

package process

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// supervisorNice is the nice value RaisePriority gives graceful's threads.
const supervisorNice = -5

// RaisePriority makes this process's threads run before the job's when the
// CPU is short: a job that keeps every core busy (a build forking
// compilers) would otherwise delay the timeline's steps by tens of
// milliseconds. Each thread gets nice -5 with SCHED_FLAG_RESET_ON_FORK,
// so every process forked from here (the job, commands, the guardian)
// starts at nice 0 again, and threads created later inherit both. It only
// raises from nice 0 (a graceful started under `nice` keeps what it was
// given) and needs CAP_SYS_NICE; without it nothing changes. It reports
// whether it did.
func RaisePriority() bool {
	if n, err := unix.Getpriority(unix.PRIO_PROCESS, 0); err != nil || n != 20 { // the raw value is 20 - nice
		return false
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return false
	}
	done := false
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_NORMAL, Flags: unix.SCHED_FLAG_RESET_ON_FORK, Nice: supervisorNice}
		if unix.SchedSetAttr(tid, &attr, 0) == nil {
			done = true
		}
	}
	return done
}
