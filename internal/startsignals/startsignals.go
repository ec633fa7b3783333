// Package startsignals holds what graceful knows of signals before any of
// its own code runs: the dispositions it was started with and, for a
// `graceful run` command line, the catch of the signals a run catches
// first, begun while the rest of the program initialises.
//
// Catching a signal the process has not caught before is a round trip to
// the Go runtime's signal-mask thread (see supervise.Ahead), about 40 to
// 170 µs each on a small VM, and a run's job is forked only once its first
// signals are caught. Begun from the command tree, the round trips ran
// past everything else a run does before the fork (flags, profile, cgroup
// leaf), and the fork waited for them. Begun here, during package
// initialisation, they overlap the initialisation of the packages that
// come after this one (a millisecond or more of the start-up), and are
// mostly done when main begins.
//
// The package imports nothing of graceful's, so that it is initialised
// early; the signals are the Linux numbers of supervise's Always and
// Fault signals, which a test of supervise holds equal.
package startsignals

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// ignored records which signals were ignored when graceful started,
// before anything was caught: catching a signal changes what
// signal.Ignored reports.
var ignored [65]bool

// IgnoredAtStart reports whether sig was ignored when graceful started,
// as signal.Ignored reported it before graceful caught anything.
func IgnoredAtStart(sig syscall.Signal) bool {
	if sig <= 0 || int(sig) >= len(ignored) {
		return signal.Ignored(sig)
	}
	return ignored[sig]
}

// Base returns the signals begun for a run command line, the ignored ones
// included (they are left alone).
func Base() []syscall.Signal { return append([]syscall.Signal(nil), base...) }

// Buffer is the capacity of the channel the signals arrive on, as for any
// of supervise's catches.
const Buffer = 16

var early struct {
	mu    sync.Mutex
	ch    chan os.Signal // nil once taken
	asked []syscall.Signal
	done  chan struct{} // closed once caught; kept when taken
}

func init() {
	for s := 1; s < len(ignored); s++ {
		ignored[s] = signal.Ignored(syscall.Signal(s))
	}
	if IsRun(os.Args[1:]) {
		begin(base)
	}
}

// IsRun reports whether args (a command line without the program's name)
// is a run command line: its first argument is "run". cmd/graceful builds
// the run's own command tree, which takes the catch begun here over, for
// exactly these; one test of the decision serves both.
func IsRun(args []string) bool { return len(args) > 0 && args[0] == "run" }

// begin starts catching asked on a goroutine of its own. A signal that
// was ignored at start is left alone, as supervise.Catch leaves it.
func begin(asked []syscall.Signal) {
	if len(asked) == 0 {
		return
	}
	var sigs []os.Signal
	for _, s := range asked {
		if !IgnoredAtStart(s) {
			sigs = append(sigs, s)
		}
	}
	ch, done := make(chan os.Signal, Buffer), make(chan struct{})
	early.ch, early.asked, early.done = ch, asked, done
	go func() {
		defer close(done)
		if len(sigs) > 0 {
			signal.Notify(ch, sigs...)
		}
	}()
}

// Caught is closed once the catch begun during initialisation has caught
// its signals, taken or not; nil when none was begun.
func Caught() <-chan struct{} {
	early.mu.Lock()
	defer early.mu.Unlock()
	return early.done
}

// Take hands over the catch begun during initialisation, once: the
// channel the signals arrive on, the signals it was asked for (those
// ignored at start are not caught), and a channel closed once they are
// caught. ok is false when none was begun (not a run command line, or no
// signals to catch on this system) or it was taken already.
func Take() (ch chan os.Signal, asked []syscall.Signal, done <-chan struct{}, ok bool) {
	early.mu.Lock()
	defer early.mu.Unlock()
	if early.ch == nil {
		return nil, nil, nil, false
	}
	ch, asked, done = early.ch, early.asked, early.done
	early.ch = nil
	return ch, asked, done, true
}
