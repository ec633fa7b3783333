//go:build linux

package process

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// procStat is what the sweep reads from /proc/PID/stat.
type procStat struct {
	pid, ppid, pgid int
	sid             int
	threads         int
	state           byte
	start           uint64 // start time in clock ticks since boot: (pid, start) names one process
}

// readStat parses /proc/PID/stat.
func readStat(pid int) (procStat, bool) {
	b, err := readFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	return parseStat(pid, b)
}

func parseStat(pid int, b []byte) (procStat, bool) {
	i := bytes.LastIndexByte(b, ')') // comm may hold spaces and parentheses
	if i < 0 || i+2 >= len(b) {
		return procStat{}, false
	}
	f := bytes.Fields(b[i+2:])
	if len(f) < 20 {
		return procStat{}, false
	}
	ppid, _ := strconv.Atoi(string(f[1]))
	pgid, _ := strconv.Atoi(string(f[2]))
	sid, _ := strconv.Atoi(string(f[3]))
	threads, _ := strconv.Atoi(string(f[17]))
	start, _ := strconv.ParseUint(string(f[19]), 10, 64)
	return procStat{pid: pid, ppid: ppid, pgid: pgid, sid: sid, threads: threads, state: f[0][0], start: start}, true
}

// scanProcs reads every process's stat.
func scanProcs() map[int]procStat {
	names, err := readDirNames("/proc")
	if err != nil && len(names) == 0 {
		return nil
	}
	all := make(map[int]procStat, len(names))
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); ok {
			all[pid] = st
		}
	}
	return all
}

// procIsOurs reports whether /proc shows this process's PID namespace:
// /proc/self names this process. It does not when /proc is missing (a
// tmpfs over it, a minimal container) or was mounted for another PID
// namespace (graceful as PID 1 of a namespace that kept the host's /proc).
// The sweep then sees nothing, or worse, other processes: it must not run.
var procIsOurs = sync.OnceValue(func() bool {
	self, err := os.Readlink("/proc/self")
	return err == nil && self == strconv.Itoa(os.Getpid())
})

// errForeignProc explains why sweep mode cannot work.
func errForeignProc() error {
	self, err := os.Readlink("/proc/self")
	what := "missing"
	if err == nil {
		what = "of another PID namespace (/proc/self is " + self + ", this process is " + strconv.Itoa(os.Getpid()) + ")"
	}
	return errors.New("/proc is " + what + ": descendants that leave the job's group cannot be found; mount a proc for this PID namespace (unshare --mount-proc, or the container runtime's default /proc), or use a cgroup v2 leaf (--cgroup on)")
}

// haveChildrenFiles reports whether /proc/PID/task/TID/children exists
// (CONFIG_PROC_CHILDREN): the sweep then walks the tree from this process
// down instead of reading every process's stat.
var haveChildrenFiles = sync.OnceValue(func() bool {
	_, err := os.Stat("/proc/self/task/" + strconv.Itoa(os.Getpid()) + "/children")
	return err == nil
})

// childrenOf lists pid's children from its tasks' children files
// (threads is the process's thread count: one thread needs no listing).
func childrenOf(pid, threads int) []int {
	base := "/proc/" + strconv.Itoa(pid) + "/task"
	tids := []string{strconv.Itoa(pid)}
	if threads != 1 {
		var err error
		if tids, err = readDirNames(base); err != nil && len(tids) == 0 {
			return nil
		}
	}
	var kids []int
	for _, tid := range tids {
		b, err := readFile(base + "/" + tid + "/children")
		if err != nil {
			continue
		}
		for _, f := range bytes.Fields(b) {
			if n, err := strconv.Atoi(string(f)); err == nil {
				kids = append(kids, n)
			}
		}
	}
	return kids
}

// jobTree returns the job's processes: walked down from this process
// through the children files when the kernel has them, else found in a
// full scan of /proc (sweepTree).
func jobTree(self int, leader *proc) []procStat {
	if !haveChildrenFiles() {
		return sweepTree(scanProcs(), self, leader)
	}
	in := make(map[int]bool)
	var stack []int
	add := func(pid int) {
		if !in[pid] && pid > 1 && pid != self {
			in[pid] = true
			stack = append(stack, pid)
		}
	}
	if leader != nil && leader.alive() {
		add(leader.pid)
	}
	for _, pid := range childrenOf(self, 0) {
		if !isOwned(pid) {
			add(pid)
		}
	}
	out := make([]procStat, 0, len(stack))
	for len(stack) > 0 {
		pid := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		st, ok := readStat(pid)
		if !ok {
			continue
		}
		out = append(out, st)
		for _, k := range childrenOf(pid, st.threads) {
			add(k)
		}
	}
	return out
}

// sweepTree returns the job's processes as seen in all: the leader (while
// unreaped) and its descendants, the members of its group (while the leader
// is unreaped, so the group id is its own), and the orphans this process
// adopted as a child subreaper (children not started by this package) with
// their descendants.
func sweepTree(all map[int]procStat, self int, leader *proc) []procStat {
	kids := make(map[int][]int, len(all))
	for pid, st := range all {
		kids[st.ppid] = append(kids[st.ppid], pid)
	}
	in := make(map[int]bool)
	var stack []int
	add := func(pid int) {
		if !in[pid] && pid > 1 && pid != self {
			in[pid] = true
			stack = append(stack, pid)
		}
	}
	leaderAlive := leader != nil && leader.alive()
	if leaderAlive {
		add(leader.pid)
		for pid, st := range all {
			if st.pgid == leader.pid {
				add(pid)
			}
		}
	}
	for _, pid := range kids[self] {
		if !isOwned(pid) {
			add(pid)
		}
	}
	for len(stack) > 0 {
		pid := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, k := range kids[pid] {
			add(k)
		}
	}
	out := make([]procStat, 0, len(in))
	for pid := range in {
		if st, ok := all[pid]; ok {
			out = append(out, st)
		}
	}
	return out
}

// sendPinned signals the process named by (pid, start) through a pidfd,
// checking after pidfd_open that the pid still names that process, so a
// recycled pid is never signalled.
//
// With keep, the pidfd is returned open (the caller closes it).
func sendPinned(st procStat, sig syscall.Signal, keep bool) (int, bool) {
	fd, err := unix.PidfdOpen(st.pid, 0)
	if err != nil {
		return -1, false
	}
	now, ok := readStat(st.pid)
	if !ok || now.start != st.start || unix.PidfdSendSignal(fd, sig, nil, 0) != nil {
		_ = unix.Close(fd)
		return -1, false
	}
	if !keep {
		_ = unix.Close(fd)
		return -1, true
	}
	return fd, true
}

// sweepSignal signals the job's tree, re-scanning until a scan shows no
// live process that has not been signalled yet (processes forked while the
// sweep runs are caught by the next scan). It returns how many processes
// were signalled. With keep, it also returns the pidfds of the signalled
// processes, open, for the caller to wait on and close. A non-nil
// superseded is asked before each scan: when it says yes (a SIGKILL of the
// whole tree began), the sweep stops, as whatever it would still signal is
// being killed. A non-nil observe sees each process before it is
// signalled (the escape report). A non-zero deadline ends the sweep when
// it passes, whatever is left. To SIGKILL the tree, use sweepKill.
func sweepSignal(self int, leader *proc, sig syscall.Signal, keep bool, superseded func() bool, observe func(procStat), deadline time.Time) (int, []int) {
	type key struct {
		pid   int
		start uint64
	}
	seen := make(map[key]bool)
	var fds []int
	late := func() bool { return !deadline.IsZero() && time.Now().After(deadline) }
	for round := 0; round < 64; round++ {
		if (superseded != nil && superseded()) || late() {
			break
		}
		fresh := 0
		for i, st := range jobTree(self, leader) {
			if i%64 == 63 && late() {
				break
			}
			k := key{st.pid, st.start}
			// A zombie is dead unless it is a leader whose other threads
			// live on: that process is alive and must be signalled.
			if (st.state == 'Z' && st.threads <= 1) || seen[k] {
				continue
			}
			seen[k] = true
			fresh++
			if observe != nil {
				observe(st)
			}
			if fd, ok := sendPinned(st, sig, keep); ok && keep {
				fds = append(fds, fd)
			}
		}
		if fresh == 0 {
			break
		}
	}
	return len(seen), fds
}

// sweepKill SIGKILLs the job's tree as sweepSignal finds it, without
// letting the tree grow back while it is being killed: each process found
// is stopped (SIGSTOP) and pinned, the walks repeat until one finds no
// process that is not stopped yet, and only then is every one of them
// SIGKILLed through its pidfd. A stopped process cannot fork. Killed as
// they were found, each death freed a pid that the processes not reached
// yet took again at once: a fork bomb at its pids limit (which retries a
// refused fork at once) outran every round, and graceful's cleanup never
// ended (TestRunForkBomb). It returns how many processes were killed and
// their pidfds, open, for the caller to wait on and close.
//
// observe sees the processes once all are stopped, before the kill: the
// escape report reads each one's command line and its parent's, and
// reading a process's command line waits for its memory map, which a
// process that keeps forking holds nearly all the time (63 escapes of a
// fork bomb took the whole 5 s of the cleanup, read one by one between
// the stops).
func sweepKill(self int, leader *proc, observe func(procStat), deadline time.Time) (int, []int) {
	var found []procStat
	n, fds := sweepSignal(self, leader, syscall.SIGSTOP, true, nil, func(st procStat) { found = append(found, st) }, deadline)
	if observe != nil {
		for _, st := range found {
			observe(st)
		}
	}
	for _, fd := range fds {
		_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	}
	return n, fds
}

// waitPidfds is pidfdsExited, and closes the fds.
func waitPidfds(fds []int, deadline time.Time) bool {
	defer closeFds(fds)
	return pidfdsExited(fds, deadline)
}

func closeFds(fds []int) {
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
}

// pidfdsExited waits until every process behind fds has exited (a pidfd
// polls readable then) or until deadline, and reports whether all did.
func pidfdsExited(fds []int, deadline time.Time) bool {
	pfds := make([]unix.PollFd, 0, len(fds))
	for _, fd := range fds {
		pfds = append(pfds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
	}
	for len(pfds) > 0 {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		n, err := unix.Poll(pfds, int(left/time.Millisecond)+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false
		}
		if n == 0 {
			continue
		}
		keep := pfds[:0]
		for _, p := range pfds {
			if p.Revents == 0 {
				keep = append(keep, p)
			}
		}
		for i := range keep {
			keep[i].Revents = 0
		}
		pfds = keep
	}
	return true
}
