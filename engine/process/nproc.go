//go:build linux

package process

import (
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

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
//   - ReserveThreads starts, before the job, enough threads that the
//     runtime has idle ones to hand when a pids cgroup (which no rlimit
//     reaches) is full. Made while the job starts, they lost the race to
//     a job that forked at once on a loaded machine, and the runtime's
//     own failure to start one of them was the crash; they are now made
//     from the start of run and join and waited for before the fork.
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

var reserve struct {
	once    sync.Once
	claimed atomic.Bool // the check and the threads are someone's to make
	done    chan struct{}
}

// ReserveThreads starts making the threads graceful keeps in hand for when
// a job has used up its pids limit, on a goroutine of its own. Start waits
// for them before it forks the job (a thread the runtime cannot start is
// fatal, so they must exist before the job can take the limit): call
// ReserveThreads as early as possible, so that the waiting costs nothing,
// as run and join do before they read their policy. It is idempotent.
func ReserveThreads() {
	reserve.once.Do(func() {
		reserve.done = make(chan struct{})
		go reserveOnce()
	})
}

// threadsReserved waits for ReserveThreads, starting it if nobody did.
// When its goroutine has not begun yet (the runtime has not run it: on a
// small machine waking a thread for it takes longer than the work), the
// caller does the work itself rather than wait for it to be scheduled.
func threadsReserved() {
	ReserveThreads()
	reserveOnce()
	<-reserve.done
}

// reserveOnce makes the reserve unless someone already does.
func reserveOnce() {
	if reserve.claimed.CompareAndSwap(false, true) {
		reserveThreads()
		close(reserve.done)
	}
}

// reserveThreads makes the runtime start threads until the process has
// about threadReserve: each of n goroutines holds a thread of its own
// until all have one, and then lets it go back to the runtime's idle list.
func reserveThreads() {
	if !pidsLimited() {
		return // RLIMIT_NPROC is handled by lowerNproc alone
	}
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

// pidsLimited reports whether a pids limit (a pids.max other than "max")
// applies to this process: in its cgroup v2 or v1 pids hierarchy, at its
// own cgroup or any above. When it cannot tell, it says yes. Most
// machines have one (systemd's TasksMax on user slices, a pod's pids
// limit); a run without one need not make threads it will not use.
func pidsLimited() bool {
	cg, err := selfCgroups()
	if err != nil {
		return true
	}
	for _, line := range strings.Split(string(cg), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		var mount string
		switch {
		case parts[0] == "0" && parts[1] == "":
			mount, _, _ = cgroup2MountOf(parts[2])
		case slices.Contains(strings.Split(parts[1], ","), "pids"):
			var ok bool
			if mount, ok = pids1Mount(parts[2]); !ok {
				return true
			}
		default:
			continue
		}
		if mount == "" {
			continue
		}
		if !pathExists(filepath.Join(mount, parts[2])) {
			return true // not where mountinfo says: cannot tell
		}
		for p := parts[2]; ; p = path.Dir(p) {
			b, err := readFile(filepath.Join(mount, p, "pids.max"))
			if err == nil && strings.TrimSpace(string(b)) != "max" {
				return true
			}
			if p == "/" || p == "." || p == "" {
				break
			}
		}
	}
	return false
}

// pids1Mount returns where the cgroup v1 pids hierarchy is mounted, for a
// process in cgroup self of it; false when that cannot be read. The usual
// place first, as cgroup2MountOf does: a statfs instead of having the
// kernel render mountinfo, which every run's start would wait for.
func pids1Mount(self string) (string, bool) {
	// It is the pids hierarchy if our cgroup there has pids.current (the
	// root has none, and in the initial cgroup namespace no limit either).
	const dir = "/sys/fs/cgroup/pids"
	var st unix.Statfs_t
	if initialCgroupNS() && unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP_SUPER_MAGIC &&
		(self == "/" || pathExists(filepath.Join(dir, self, "pids.current"))) {
		return dir, true
	}
	mi, err := readFile("/proc/self/mountinfo")
	if err != nil {
		return "", false
	}
	mount, _ := cgroupMount(mi, "cgroup", "pids")
	return mount, true
}

// cgroupMount returns the mount point and the mount's root of the first
// mount of type fstype in mountinfo mi whose super options include opt
// (any, when opt is empty).
func cgroupMount(mi []byte, fstype, opt string) (mount, root string) {
	for _, line := range strings.Split(string(mi), "\n") {
		// 35 25 0:30 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 3 || qf[0] != fstype {
			continue
		}
		if opt == "" || slices.Contains(strings.Split(qf[2], ","), opt) {
			return unescapeMount(pf[4]), unescapeMount(pf[3])
		}
	}
	return "", ""
}
