//go:build linux

package process

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// SignalNumber returns the number of the signal named name ("SIGTERM"), or
// an error for a name the platform does not know.
func SignalNumber(name string) (syscall.Signal, error) {
	if s := unix.SignalNum(name); s != 0 {
		return s, nil
	}
	return 0, fmt.Errorf("unknown signal %q", name)
}

// SignalName returns the name of s ("SIGTERM"), or "signal N" for a number
// without a name.
func SignalName(s syscall.Signal) string {
	if n := unix.SignalName(s); n != "" {
		return n
	}
	return fmt.Sprintf("signal %d", int(s))
}
