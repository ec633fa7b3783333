//go:build linux

package process

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/graceful-sh/graceful/engine"
)

// isForeground reports whether f is a terminal whose foreground process
// group is this process's group: only then may the job be handed the
// terminal.
func isForeground(f *os.File) bool {
	pg, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP)
	return err == nil && pg == syscall.Getpgrp()
}

// restoreForeground gives the terminal back to this process's group after
// the job had it. A background process calling tcsetpgrp gets SIGTTOU, so
// it is ignored for the call.
func (r *Runner) restoreForeground() {
	r.mu.Lock()
	f := r.fg
	r.fg = nil
	r.mu.Unlock()
	if f == nil {
		return
	}
	signal.Ignore(syscall.SIGTTOU)
	_ = unix.IoctlSetPointerInt(int(f.Fd()), unix.TIOCSPGRP, r.ownPG)
	signal.Reset(syscall.SIGTTOU)
}

// Continue resumes the job after this process was stopped and continued
// by job control (Ctrl-Z, then fg or bg): the job's group gets the terminal
// back if it had it at start, then SIGCONT. The terminal is handed over
// only while the leader is unreaped, so its group id cannot be recycled.
func (r *Runner) Continue() error {
	if r.leader == nil {
		return engine.ErrGone
	}
	if r.tty != nil && isForeground(r.tty) {
		p := r.leader
		p.mu.Lock()
		if !p.reaped {
			_ = unix.IoctlSetPointerInt(int(r.tty.Fd()), unix.TIOCSPGRP, p.pid)
			r.mu.Lock()
			r.fg = r.tty
			r.mu.Unlock()
		}
		p.mu.Unlock()
	}
	return gone(r.leader.signalGroup(syscall.SIGCONT))
}
