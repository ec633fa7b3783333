//go:build linux

package process

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/graceful-sh/graceful/engine"
)

// SignalNumber returns the number of the signal named name ("SIGTERM"), or
// an error for a name the platform does not know. The engine's table
// answers first (TestSignalTablesAgree keeps it equal to the platform's):
// x/sys/unix builds its map of names on first use, which cost the first
// cancel of a run 60 to 165 µs between the due step and its kill(2).
func SignalNumber(name string) (syscall.Signal, error) {
	if n := engine.SignalNumber(name); n != 0 {
		return syscall.Signal(n), nil
	}
	if s := unix.SignalNum(name); s != 0 {
		return s, nil
	}
	return 0, fmt.Errorf("unknown signal %q", name)
}

// SignalName returns the name of s ("SIGTERM"), or "signal N" for a number
// without a name.
func SignalName(s syscall.Signal) string {
	if n := engine.SignalName(int(s)); n != "" {
		return n
	}
	if n := unix.SignalName(s); n != "" {
		return n
	}
	return fmt.Sprintf("signal %d", int(s))
}
