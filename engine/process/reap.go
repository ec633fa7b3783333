//go:build linux

package process

import (
	"os"

	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/graceful-sh/graceful/engine/supervise"
)

// BecomeSubreaper makes this process the child subreaper of its
// descendants (PR_SET_CHILD_SUBREAPER): orphans of the job are re-parented
// to it instead of to init, so the /proc sweep can still find them and
// they can be reaped. It is process-wide and idempotent.
func BecomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// reapDelay is how long into a run the reaper starts catching SIGCHLD.
const reapDelay = 5 * time.Millisecond

var reaperOnce sync.Once

// ReapOrphans starts, once per process, a goroutine that reaps every
// zombie child this package did not start itself: orphans adopted as a
// subreaper or, when graceful is PID 1, as init. It must only be used by a
// program whose children all come from this package (the graceful command
// is such a program): a child started elsewhere, with os/exec for example,
// would have its exit status stolen.
//
// ReapOrphans returns at once. The reaper catches SIGCHLD only reapDelay
// later, so a short run never pays for it (each newly caught signal is a
// round trip to the Go runtime's signal-mask thread): until then the
// runtime ignores SIGCHLD, and the reaper scans once right after catching
// it, for orphans that died in between. A zombie waits no longer than it
// would for the delay after a SIGCHLD.
func ReapOrphans() {
	reaperOnce.Do(func() {
		reaping.Store(true)
		if os.Getpid() == 1 {
			// init may have inherited zombies before it started.
			go reapZombies()
		}
		// A timer, not a sleeping goroutine: nothing to schedule (or
		// start a thread for) during a short run.
		time.AfterFunc(reapDelay, func() {
			ch := make(chan os.Signal, 1)
			supervise.Catch(ch, "SIGCHLD")
			for {
				// Reap until a pass finds nothing: orphans that die
				// while a pass runs are reaped in the next, not left to
				// wait for another SIGCHLD.
				for reapZombies() > 0 {
				}
				select {
				case <-ch:
				case <-reapAgain:
				}
			}
		})
	})
}

// reaping is set once ReapOrphans has run: every child of this process
// then comes from this package, and a zombie not registered in children
// is an orphan anyone may reap.
var reaping atomic.Bool

// reapAdopted reaps, now, the orphans' zombies the reaper has not reaped
// yet, where ReapOrphans runs: Close calls it last, so that what it
// killed is not left, as zombies, to whoever adopts them when this
// process exits (init, which may take a second, while each holds a pid
// of the job's limit). A zombie of ours (a command not reaped yet by its
// own goroutine) in front of them ends the pass (see reapZombies); by
// Close's end the leader and the guardian are reaped.
func reapAdopted() {
	if reaping.Load() {
		reapZombies()
	}
}

// reapZombies reaps the zombie children that are not registered in
// children. The registry lock is held throughout so a child being started
// cannot be taken for an orphan. waitid names a waitable child without
// reaping it; it is reaped unless it is one of ours, and waitid is asked
// again: one system call pair per orphan, however many children there
// are. When the child named is one of ours, orphans may wait behind it:
// its own goroutine reaps it at once and then wakes the reaper again
// (reapAgain), so no scan of the children is needed here.
func reapZombies() int {
	children.Lock()
	defer children.Unlock()
	n := 0
	for {
		var si unix.Siginfo
		err := unix.Waitid(unix.P_ALL, 0, &si, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT|unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		pid := int(siginfoPid(&si))
		if err != nil || pid <= 0 || children.pids[pid] {
			return n // none left, or ours first in line (reapAgain)
		}
		var ws syscall.WaitStatus
		if p, _ := syscall.Wait4(pid, &ws, syscall.WNOHANG|syscall.WALL, nil); p != pid {
			return n
		}
		n++
	}
}

// reapAgain wakes the reaper once a child of ours was reaped: an orphan's
// zombie may have been waiting behind it.
var reapAgain = make(chan struct{}, 1)

func wakeReaper() {
	select {
	case reapAgain <- struct{}{}:
	default:
	}
}

// noChildren reports whether this process has no child at all, running,
// stopped or zombie (waitid answers ECHILD). The sweep then has nothing to
// find: everything it signals is reached from this process's children
// (the unreaped leader is one of them). As a subreaper this process also
// adopts whatever a child leaves behind when it exits, before the child
// can be reaped, so no child means no descendant left at all.
func noChildren() bool {
	var si unix.Siginfo
	for {
		err := unix.Waitid(unix.P_ALL, 0, &si, unix.WEXITED|unix.WSTOPPED|unix.WCONTINUED|unix.WNOHANG|unix.WNOWAIT|unix.WALL, nil)
		if err != unix.EINTR {
			return err == unix.ECHILD
		}
	}
}
