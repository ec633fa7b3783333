package process

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
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
