package process

import (
	"bytes"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// procStat is what the sweep reads from /proc/PID/stat.
type procStat struct {
	pid, ppid, pgid int
	state           byte
	start           uint64 // start time in clock ticks since boot: (pid, start) names one process
}

// readStat parses /proc/PID/stat.
func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
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
	start, _ := strconv.ParseUint(string(f[19]), 10, 64)
	return procStat{pid: pid, ppid: ppid, pgid: pgid, state: f[0][0], start: start}, true
}

// scanProcs reads every process's stat.
func scanProcs() map[int]procStat {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
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
func sendPinned(st procStat, sig syscall.Signal) bool {
	fd, err := unix.PidfdOpen(st.pid, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	now, ok := readStat(st.pid)
	if !ok || now.start != st.start {
		return false
	}
	return unix.PidfdSendSignal(fd, sig, nil, 0) == nil
}

// sweepSignal signals the job's tree, re-scanning /proc until a scan shows
// no live process that has not been signalled yet (processes forked while
// the sweep runs are caught by the next scan). It returns how many
// processes were signalled.
func sweepSignal(self int, leader *proc, sig syscall.Signal) int {
	type key struct {
		pid   int
		start uint64
	}
	seen := make(map[key]bool)
	for round := 0; round < 64; round++ {
		fresh := 0
		for _, st := range sweepTree(scanProcs(), self, leader) {
			k := key{st.pid, st.start}
			if st.state == 'Z' || seen[k] {
				continue
			}
			seen[k] = true
			fresh++
			sendPinned(st, sig)
		}
		if fresh == 0 {
			break
		}
	}
	return len(seen)
}

// sweepLive counts the job's processes that are still running (not zombies).
func sweepLive(self int, leader *proc) int {
	n := 0
	for _, st := range sweepTree(scanProcs(), self, leader) {
		if st.state != 'Z' && st.state != 'X' {
			n++
		}
	}
	return n
}
