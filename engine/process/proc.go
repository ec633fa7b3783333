//go:build linux

package process

import (
	"errors"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// children is the process-wide registry of the children this package started
// and waits for itself. The orphan reaper reaps only zombies that are not in
// it, and a child is registered in the same critical section as its fork, so
// the reaper can never steal a child's status.
var children = struct {
	sync.Mutex
	pids map[int]bool
}{pids: make(map[int]bool)}

func isOwned(pid int) bool {
	children.Lock()
	defer children.Unlock()
	return children.pids[pid]
}

// proc is one child started by this package (a job's leader or an Exec
// command), with its process group of its own.
//
// The group is signalled only under mu while the leader is unreaped: a zombie
// leader still holds its pid, and so the group id, which therefore cannot
// have been recycled. The waiting goroutine observes the exit with
// waitid(WNOWAIT) and reaps under mu.
type proc struct {
	pid   int
	pidfd int // -1 when pidfds are unavailable

	hooks

	mu     sync.Mutex
	reaped bool
	status syscall.WaitStatus
	done   chan struct{} // closed once reaped
}

// hooks are what a proc's waiting goroutine does besides waiting.
type hooks struct {
	// killGroupOnExit makes the waiter SIGKILL what is left of the group
	// just before it reaps the leader (Exec commands leave nothing behind).
	killGroupOnExit bool
	// onStop, when set, is called (on the waiting goroutine) each time
	// the leader is stopped by a signal.
	onStop func(syscall.Signal)
	// onExit, when set, is called (on the waiting goroutine) once the
	// leader is reaped, after done is closed.
	onExit func(syscall.WaitStatus)
}

// startProc forks and execs path on a goroutine locked to its OS thread,
// which stays alive (blocked in waitid) until the child is reaped. The
// parent-death signal is tied to the thread that forked, not to the process:
// were the thread to exit (Go ends the thread of a goroutine that exits
// while locked), the child would be killed early.
func startProc(path string, argv []string, attr *syscall.ProcAttr, h hooks) (*proc, error) {
	type started struct {
		p   *proc
		err error
	}
	ch := make(chan started, 1)
	go func() {
		runtime.LockOSThread()
		pidfd := -1
		sys := *attr.Sys
		sys.PidFD = &pidfd
		a := *attr
		a.Sys = &sys

		children.Lock()
		restore := lowerNproc()
		pid, err := syscall.ForkExec(path, argv, &a)
		restore()
		if err == nil {
			children.pids[pid] = true
		}
		children.Unlock()
		if err != nil {
			runtime.UnlockOSThread()
			ch <- started{err: err}
			return
		}
		p := &proc{pid: pid, pidfd: pidfd, hooks: h, done: make(chan struct{})}
		ch <- started{p: p}
		p.wait()
		runtime.UnlockOSThread()
	}()
	s := <-ch
	return s.p, s.err
}

// wait blocks until the child has exited, then reaps it under mu. Stops
// on the way are reported to onStop.
func (p *proc) wait() {
	opts := unix.WEXITED | unix.WNOWAIT
	if p.onStop != nil {
		opts |= unix.WSTOPPED
	}
	for {
		var si unix.Siginfo
		err := unix.Waitid(unix.P_PID, p.pid, &si, opts, nil)
		if err == unix.EINTR {
			continue
		}
		if err == nil && si.Code == cldStopped {
			// Consume the stop (WNOWAIT left it pending); this never
			// reaps, as WEXITED is not asked for.
			var si2 unix.Siginfo
			_ = unix.Waitid(unix.P_PID, p.pid, &si2, unix.WSTOPPED|unix.WNOHANG, nil)
			p.onStop(syscall.Signal(siginfoStatus(&si)))
			continue
		}
		break
	}
	p.mu.Lock()
	if p.killGroupOnExit {
		_ = unix.Kill(-p.pid, unix.SIGKILL)
	}
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(p.pid, &ws, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	p.status = ws
	p.reaped = true
	if p.pidfd >= 0 {
		_ = unix.Close(p.pidfd)
		p.pidfd = -1
	}
	p.mu.Unlock()

	children.Lock()
	delete(children.pids, p.pid)
	children.Unlock()
	wakeReaper()
	close(p.done)
	if p.onExit != nil {
		p.onExit(ws)
	}
}

// cldStopped is CLD_STOPPED, the si_code of a child stopped by a signal.
const cldStopped = 5

// siginfoStatus returns si_status of a SIGCHLD siginfo: after si_pid and
// si_uid, at byte 24 of the structure on every Linux architecture.
func siginfoStatus(si *unix.Siginfo) int32 {
	return *(*int32)(unsafe.Add(unsafe.Pointer(si), 24))
}

// siginfoPid returns si_pid of a SIGCHLD siginfo, at byte 16 where
// siginfoStatus finds si_status at 24.
func siginfoPid(si *unix.Siginfo) int32 {
	return *(*int32)(unsafe.Add(unsafe.Pointer(si), 16))
}

// errReaped is returned by signalGroup once the leader has been reaped.
var errReaped = errors.New("process group leader already reaped")

// signalGroup sends sig to the child's process group, only while the
// leader is unreaped (see proc). A leader that moved to another group of
// the session (setpgid) is still the job's: it gets sig through its pidfd.
func (p *proc) signalGroup(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reaped {
		return errReaped
	}
	if p.pid <= 1 { // never 0, -1 or init
		return errReaped
	}
	err := unix.Kill(-p.pid, sig)
	if pg, perr := unix.Getpgid(p.pid); perr == nil && pg != p.pid {
		if lerr := p.sendLeader(sig); lerr == nil && err == unix.ESRCH {
			err = nil
		}
	}
	return err
}

// signalLeader sends sig to the leader alone.
func (p *proc) signalLeader(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reaped {
		return errReaped
	}
	return p.sendLeader(sig)
}

// sendLeader signals the leader; mu is held and it is unreaped.
func (p *proc) sendLeader(sig syscall.Signal) error {
	if p.pidfd >= 0 {
		return unix.PidfdSendSignal(p.pidfd, sig, nil, 0)
	}
	return unix.Kill(p.pid, sig)
}

// alive reports whether the leader is still unreaped.
func (p *proc) alive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.reaped
}

// reapedBy reports whether p is reaped by deadline. A leader reaped long
// before is reported as such even when the deadline has passed: a select
// over both would pick at random between its closed done and an expired
// timer.
func (p *proc) reapedBy(deadline time.Time) bool { return closedBy(p.done, deadline) }

// closedBy reports whether ch is closed by deadline, waiting for it until
// then (without a timer when it already is).
func closedBy(ch <-chan struct{}, deadline time.Time) bool {
	select {
	case <-ch:
		return true
	default:
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}
