//go:build linux

package process

import (
	"bytes"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Escape is a process of the job that had left the job's process group
// (setsid, setpgid, a double fork): the tree scope reached it, the group
// would not have. The job's author should know: a daemon started by a
// build outlives a plain `kill -- -PGID`.
type Escape struct {
	PID int
	// Command is its command line (truncated), "" when unreadable.
	Command string
	// How says how it left: "setsid", "setpgid", "another group",
	// with the parent it came from when known.
	How string
}

// String is the escape as graceful reports it: "sleep 1001 (pid 165,
// setsid, from sh -c ./deploy.sh)".
func (e Escape) String() string {
	cmd := e.Command
	if cmd == "" {
		cmd = "?"
	}
	return cmd + " (pid " + strconv.Itoa(e.PID) + ", " + e.How + ")"
}

// escapes records the job's escaped processes, once each.
type escapes struct {
	mu   sync.Mutex
	seen map[[2]uint64]bool
	list []Escape
}

// note records st when it is outside the leader's group.
func (x *escapes) note(st procStat, leader int, self int) {
	if leader == 0 || st.pgid == leader || st.pid == leader {
		return
	}
	key := [2]uint64{uint64(st.pid), st.start}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.seen == nil {
		x.seen = map[[2]uint64]bool{}
	}
	if x.seen[key] {
		return
	}
	x.seen[key] = true
	how := "another process group"
	switch {
	case st.sid == st.pid:
		how = "setsid"
	case st.pgid == st.pid:
		how = "setpgid"
	}
	switch {
	case st.ppid == self:
		how += ", its parent gone"
	case st.ppid > 1:
		if c := cmdline(st.ppid); c != "" {
			how += ", from " + c
		}
	}
	x.list = append(x.list, Escape{PID: st.pid, Command: cmdline(st.pid), How: how})
}

func (x *escapes) all() []Escape {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]Escape(nil), x.list...)
}

// cmdline reads a process's command line, at most 200 bytes, arguments
// separated by spaces.
func cmdline(pid int) string {
	b, err := readFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 {
		return ""
	}
	b = bytes.TrimRight(b, "\x00")
	if len(b) > 200 {
		b = append(b[:197:197], "..."...)
	}
	return strings.ReplaceAll(string(b), "\x00", " ")
}

// Escaped returns the processes of the job seen outside its process group
// when the tree was signalled or cleaned up, in the order seen.
func (r *Runner) Escaped() []Escape { return r.esc.all() }

// noteTree records the escaped processes among pids, the job's cgroup
// leaf as listed just before a signal. Only a process outside the
// leader's group is read from /proc: getpgid tells the group in one
// system call where a stat takes three, and the signal waits for these
// reads. (In sweep mode the sweep itself notes each process it signals:
// noteEscape.)
//
// With freeze (before a SIGKILL, which leaves nothing to read), the leaf
// is frozen first when there is an escape to read: reading a command line
// waits for the process's memory map, which a process that keeps forking
// holds nearly all the time, and a fork bomb's 138 escapes held the kill
// back by seconds (TestRunForkBomb). A frozen process neither forks nor
// holds its map, and a SIGKILL still ends it.
func (r *Runner) noteTree(pids []int, freeze bool) {
	if r.leader == nil || r.cg == nil || !procIsOurs() {
		return
	}
	var out []int
	for _, pid := range pids {
		if pg, err := unix.Getpgid(pid); err != nil || pg == r.leader.pid {
			continue // gone, or in the group: no escape
		}
		out = append(out, pid)
	}
	if len(out) > 0 && freeze {
		r.cg.freeze(freezeWait)
	}
	for _, pid := range out {
		if st, ok := readStat(pid); ok {
			r.esc.note(st, r.leader.pid, r.self)
		}
	}
}

// noteEscape records one process a sweep is about to signal.
func (r *Runner) noteEscape(st procStat) {
	if r.leader != nil && int64(st.pid) != r.guardian.Load() {
		r.esc.note(st, r.leader.pid, r.self)
	}
}
