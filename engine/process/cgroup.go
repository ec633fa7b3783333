//go:build linux

package process

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// cgroup is the job's cgroup v2 leaf: every process of the job, however it
// forked or daemonised, stays in it, and cgroup.kill kills them all at once.
type cgroup struct {
	dir string // absolute directory
	rel string // the path as /proc/PID/cgroup shows it ("/graceful-1-1")
	fd  int    // open directory, for CLONE_INTO_CGROUP
}

var cgroupSeq atomic.Int64

// newCgroup creates a leaf cgroup under the one graceful runs in. It fails
// (and the runner falls back to the subreaper sweep) when there is no
// cgroup v2 hierarchy, the directory is not writable, or the kernel has no
// cgroup.kill (before 5.14).
func newCgroup() (*cgroup, error) {
	rel, err := ownCgroup() // as /proc/self/cgroup shows it
	if err != nil {
		return nil, err
	}
	mount, root, err := cgroup2MountOf(rel)
	if err != nil {
		return nil, err
	}
	self := rel
	if root != "/" {
		if self != root && !strings.HasPrefix(self, root+"/") {
			return nil, fmt.Errorf("cgroup %s is outside the mounted root %s", self, root)
		}
		self = strings.TrimPrefix(self, root)
	}
	// Moving the job into the leaf needs write access to cgroup.procs of
	// the common ancestor, our own cgroup: a directory we may write
	// (partial delegation) is not enough, and the clone's refusal would
	// look like execve's "permission denied".
	if err := unix.Faccessat(unix.AT_FDCWD, filepath.Join(mount, self, "cgroup.procs"), unix.W_OK, unix.AT_EACCESS); err != nil {
		return nil, &os.PathError{Op: "access", Path: filepath.Join(mount, self, "cgroup.procs"), Err: err}
	}
	// The name need only be unique: a leaf left by a SIGKILLed graceful
	// (which cannot clean up), or one of another PID namespace where
	// graceful is also PID 1, is stepped over.
	var name, dir string
	var fd int
	for try := 0; ; try++ {
		name = "graceful-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(cgroupSeq.Add(1), 10)
		dir = filepath.Join(mount, self, name)
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			if fd, err = lockLeaf(dir); err == nil {
				break
			}
			if errors.Is(err, os.ErrNotExist) {
				err = os.ErrExist // removed under us: another name
			} else {
				_ = os.Remove(dir)
			}
		}
		if !errors.Is(err, os.ErrExist) || try == 100 {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cgroup.kill")); err != nil {
		_ = unix.Close(fd)
		_ = os.Remove(dir)
		return nil, fmt.Errorf("no cgroup.kill (kernel before 5.14): %w", err)
	}
	return &cgroup{dir: dir, rel: filepath.Join(rel, name), fd: fd}, nil
}

// lockLeaf opens the leaf just made at dir and takes an exclusive flock on
// it, held (through the open directory, also used for CLONE_INTO_CGROUP)
// until the leaf is removed: the lock is what tells another graceful that
// the leaf's owner is alive (see removeStaleBeside). It fails with ErrNotExist if
// the leaf was removed in between.
func lockLeaf(dir string) (int, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	// Another graceful's removeStaleBeside may hold it for a moment (it opens
	// every leaf of our naming to look); never wait on it for long (it
	// could be stopped), take another name instead.
	for try := 0; ; try++ {
		err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			break
		}
		if try == 100 {
			_ = unix.Close(fd)
			return -1, &os.PathError{Op: "lock", Path: dir, Err: unix.EEXIST}
		}
		time.Sleep(100 * time.Microsecond)
	}
	// Still the directory that was made (a cleaner may have removed it
	// before the lock was taken, and another graceful made it anew).
	var held, now unix.Stat_t
	if err == nil {
		if err = unix.Fstat(fd, &held); err == nil {
			err = unix.Stat(dir, &now)
		}
		if err == nil && held.Ino != now.Ino {
			err = unix.ENOENT
		}
	}
	if err != nil {
		_ = unix.Close(fd)
		return -1, &os.PathError{Op: "lock", Path: dir, Err: err}
	}
	return fd, nil
}

// staleAge is how old an unlocked empty leaf must be to be taken for
// stale: a graceful that did not lock its leaf (an older version) may be
// between creating it and cloning the job into it.
var staleAge = 2 * time.Second

// removeStaleBeside removes the leaves beside the leaf dir (which exists)
// that a graceful left behind when it was SIGKILLed (or, as PID 1 of a
// container, died with its PID namespace): named graceful-PID-N, not
// locked by a live owner, old enough, and empty (rmdir refuses a leaf with
// processes or children). It returns how many it removed. It reads
// nothing of dir's cgroup itself, so it may run while the job runs in it.
func removeStaleBeside(dir string) int {
	parent, own := filepath.Dir(dir), filepath.Base(dir)
	// A cgroup directory's link count is 2 plus its subdirectories
	// (kernfs): when they are our own leaf alone, there is nothing to
	// look at, and no directory is read.
	var st unix.Stat_t
	if unix.Stat(parent, &st) == nil && st.Nlink >= 2 && st.Nlink <= 2+1 { // 1: our own leaf
		return 0
	}
	names, err := readDirNames(parent)
	if err != nil {
		return 0
	}
	n := 0
	for _, name := range names {
		if name != own && isLeafName(name) && removeIfStale(filepath.Join(parent, name)) {
			n++
		}
	}
	return n
}

// isLeafName reports whether name is graceful-PID-N.
func isLeafName(name string) bool {
	rest, ok := strings.CutPrefix(name, "graceful-")
	if !ok {
		return false
	}
	pid, seq, ok := strings.Cut(rest, "-")
	return ok && isDigits(pid) && isDigits(seq)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func removeIfStale(dir string) bool {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	if unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) != nil {
		return false // its owner is alive
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || time.Since(time.Unix(st.Ctim.Unix())) < staleAge {
		return false
	}
	return unix.Rmdir(dir) == nil
}

// cgroup2Mount finds the cgroup2 mount point and its root in
// /proc/self/mountinfo (it is /sys/fs/cgroup on a unified system and
// /sys/fs/cgroup/unified on a hybrid one).
func cgroup2Mount() (mount, root string, err error) {
	self, _ := ownCgroup()
	return cgroup2MountOf(self)
}

// cgroup2MountOf is cgroup2Mount for a process in cgroup self (as
// /proc/self/cgroup shows it; empty if unknown). What it found for a
// cgroup is kept: a run's start asks for its own twice (the pids-limit
// check and the leaf), and mounts do not move under a running graceful
// any more than its own cgroup does (selfCgroups is read once too).
func cgroup2MountOf(self string) (mount, root string, err error) {
	if self == "" {
		return findCgroup2Mount(self)
	}
	mountCache.Lock()
	defer mountCache.Unlock()
	if mountCache.self == self {
		return mountCache.mount, mountCache.root, nil
	}
	if mount, root, err = findCgroup2Mount(self); err == nil {
		mountCache.self, mountCache.mount, mountCache.root = self, mount, root
	}
	return mount, root, err
}

// mountCache is the last cgroup2MountOf found.
var mountCache struct {
	sync.Mutex
	self, mount, root string
}

// findCgroup2Mount looks for cgroup2MountOf.
func findCgroup2Mount(self string) (mount, root string, err error) {
	// The usual places first: a statfs is much cheaper than having the
	// kernel render mountinfo. Their mount root is "/" in the initial
	// cgroup namespace; in another one only mountinfo tells (a mount of
	// the host's hierarchy shows there as "/..": our "/" is not its root,
	// and a leaf made at its top would take the job out of our cgroup).
	if self != "" && initialCgroupNS() {
		for _, dir := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
			var st unix.Statfs_t
			if unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
				if pathExists(filepath.Join(dir, self)) {
					return dir, "/", nil
				}
				break
			}
		}
	}
	b, err := readFile("/proc/self/mountinfo")
	if err != nil {
		return "", "", err
	}
	if mount, root = cgroupMount(b, "cgroup2", ""); mount == "" {
		return "", "", errors.New("no cgroup2 mount")
	}
	return mount, root, nil
}

// initialCgroupNS reports whether this process is in the initial cgroup
// namespace (whose inode number is fixed: PROC_CGROUP_INIT_INO). Read
// once: graceful never changes its namespaces, and a run's start asks
// twice (the pids-limit check and the leaf).
var initialCgroupNS = sync.OnceValue(func() bool {
	link, err := os.Readlink("/proc/self/ns/cgroup")
	return err == nil && link == "cgroup:[4026531835]"
})

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ownCgroup returns this process's cgroup v2 path ("0::/path").
func ownCgroup() (string, error) {
	b, err := selfCgroups()
	if err != nil {
		return "", err
	}
	return v2Entry(b, "/proc/self/cgroup")
}

// selfCgroups is /proc/self/cgroup, read once per process: a run's start
// needs it twice (the pids-limit check, on a goroutine of its own, and
// the leaf), and graceful never moves itself to another cgroup.
var selfCgroups = sync.OnceValues(func() ([]byte, error) { return readFile("/proc/self/cgroup") })

func pidCgroup(pid int) (string, error) {
	name := "/proc/" + strconv.Itoa(pid) + "/cgroup"
	b, err := readFile(name)
	if err != nil {
		return "", err
	}
	return v2Entry(b, name)
}

// v2Entry returns the cgroup v2 path in b, the content of the file name
// (/proc/PID/cgroup).
func v2Entry(b []byte, name string) (string, error) {
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p, nil
		}
	}
	return "", errors.New("no cgroup v2 entry in " + name)
}

// procs lists the pids in the cgroup and in the cgroups the job made
// inside it.
func (c *cgroup) procs() ([]int, error) {
	return treeProcs(c.dir, nil)
}

func treeProcs(dir string, pids []int) ([]int, error) {
	b, err := readFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return pids, err
	}
	for _, f := range bytes.Fields(b) {
		if n, err := strconv.Atoi(string(f)); err == nil {
			pids = append(pids, n)
		}
	}
	// Children: most leaves have none, and a cgroup's own files are not
	// directories.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() {
			pids, _ = treeProcs(filepath.Join(dir, e.Name()), pids)
		}
	}
	return pids, nil
}

// kill SIGKILLs every process in the cgroup, including ones forking while
// it runs (the kernel handles that race).
func (c *cgroup) kill() error {
	return writeFile(filepath.Join(c.dir, "cgroup.kill"), []byte("1"))
}

// signal sends sig to every process in the cgroup and returns how many
// there were. SIGKILL goes through cgroup.kill, which the kernel sends to
// all at once, forks included; the count is then listed, the cgroup's
// processes as the caller listed them just before. Any other signal
// lists the cgroup itself: each pid is pinned with a pidfd and then
// checked to still be in the cgroup, so a pid recycled between the
// listing and the send is never signalled, and the listing repeats until
// it shows nothing new, to catch processes forked meanwhile.
func (c *cgroup) signal(sig syscall.Signal, listed []int) (int, error) {
	if sig == unix.SIGKILL {
		if err := c.kill(); err != nil {
			return len(listed), err
		}
		if !c.waitEmpty(killAllGrace) { // see killAll
			_, _ = c.signalEach(sig)
		}
		return len(listed), nil
	}
	return c.signalEach(sig)
}

// killAll SIGKILLs the cgroup's processes and waits up to timeout for it
// to be empty. cgroup.kill misses one kind of process: one whose main
// thread has exited while other threads live on (the kernel signals the
// exited leader's thread; systemd#12262). So when the leaf is still
// populated shortly after, each process listed is killed by pid, which
// reaches its live threads.
func (c *cgroup) killAll(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	_ = c.kill()
	if c.waitEmpty(min(killAllGrace, timeout)) {
		return true
	}
	_, _ = c.signalEach(unix.SIGKILL)
	return c.waitEmpty(time.Until(deadline))
}

// freeze freezes the cgroup (cgroup.freeze) and waits up to timeout for
// the kernel to say that all of it is frozen; it reports whether it did
// (or the cgroup is gone). There is no thaw: a frozen cgroup is only ever
// killed (a fatal signal ends a frozen process) and removed.
func (c *cgroup) freeze(timeout time.Duration) bool {
	if writeFile(filepath.Join(c.dir, "cgroup.freeze"), []byte("1")) != nil {
		return false
	}
	return c.waitEvents(func(events []byte, err error) bool {
		return err != nil || bytes.Contains(events, []byte("frozen 1"))
	}, timeout)
}

// freezeWait bounds the wait for a freeze before a kill: past it, the
// kill goes ahead and the escape report reads what it can.
const freezeWait = 50 * time.Millisecond

// killAllGrace is how long cgroup.kill gets before the processes left are
// killed one by one. A zombie leader waits this long for its kill (the
// teardown took 56 ms with 50 ms here); a leaf that empties more slowly
// (thousands of processes) only costs a second, redundant SIGKILL each.
const killAllGrace = 10 * time.Millisecond

// signalEach sends sig to each process of the cgroup, pinned by a pidfd.
func (c *cgroup) signalEach(sig syscall.Signal) (int, error) {
	seen := make(map[int]bool)
	for round := 0; round < 16; round++ {
		pids, err := c.procs()
		if err != nil {
			return len(seen), err
		}
		fresh := 0
		for _, pid := range pids {
			if seen[pid] {
				continue
			}
			seen[pid] = true
			fresh++
			fd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				continue
			}
			if cg, err := pidCgroup(pid); err == nil && (cg == c.rel || strings.HasPrefix(cg, c.rel+"/")) {
				_ = unix.PidfdSendSignal(fd, sig, nil, 0)
			}
			_ = unix.Close(fd)
		}
		if fresh == 0 {
			break
		}
	}
	return len(seen), nil
}

// populated reports whether any process is left in the cgroup.
func (c *cgroup) populated() bool {
	b, err := readFile(filepath.Join(c.dir, "cgroup.events"))
	if err != nil {
		return false
	}
	return bytes.Contains(b, []byte("populated 1"))
}

// waitEmpty polls until the cgroup is empty or timeout passes.
func (c *cgroup) waitEmpty(timeout time.Duration) bool {
	return c.waitEvents(func(events []byte, err error) bool {
		return err != nil || !bytes.Contains(events, []byte("populated 1"))
	}, timeout)
}

// waitEvents reads cgroup.events, more and more slowly, until done says
// yes or timeout passes; it reports whether done did.
func (c *cgroup) waitEvents(done func(events []byte, err error) bool, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	d := 100 * time.Microsecond
	for {
		if done(readFile(filepath.Join(c.dir, "cgroup.events"))) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(d)
		if d < 5*time.Millisecond {
			d *= 2
		}
	}
}

// removeIfEmpty removes the leaf if it is empty and has no cgroup inside,
// the usual state once the job has ended: one rmdir, which the kernel
// refuses (EBUSY) while a process or a child cgroup is left, is both the
// check and the removal, where reading cgroup.events first would be two.
// It reports whether the leaf is gone.
func (c *cgroup) removeIfEmpty() bool {
	if unix.Rmdir(c.dir) != nil {
		return false
	}
	if c.fd >= 0 {
		_ = unix.Close(c.fd)
		c.fd = -1
	}
	return true
}

// remove deletes the (empty) cgroup, and the cgroups the job made inside
// it (a nested graceful, a container runtime): they are empty too once the
// leaf is, but rmdir refuses a cgroup that has children.
func (c *cgroup) remove() error {
	if c.fd >= 0 {
		_ = unix.Close(c.fd)
		c.fd = -1
	}
	return removeTree(c.dir)
}

// removeTree removes the cgroup dir and its descendants, deepest first.
func removeTree(dir string) error {
	var err error
	for i := 0; i < 50; i++ {
		if err = unix.Rmdir(dir); err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) {
			return err
		}
		if i == 0 {
			// Children first; the cgroup's own files are not
			// directories.
			if ents, rerr := os.ReadDir(dir); rerr == nil {
				for _, e := range ents {
					if e.IsDir() {
						if cerr := removeTree(filepath.Join(dir, e.Name())); cerr != nil {
							return cerr
						}
					}
				}
				continue
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return err
}

func pathExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
