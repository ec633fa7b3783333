package engine

import "slices"

// linuxSignals are the Linux numbers of the signal names a profile or a
// target may use. The engine keeps them as data so that it never imports
// syscall; runners on other platforms report Exit.SignalNumber themselves.
var linuxSignals = map[string]int{
	"SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5,
	"SIGABRT": 6, "SIGBUS": 7, "SIGFPE": 8, "SIGKILL": 9, "SIGUSR1": 10,
	"SIGSEGV": 11, "SIGUSR2": 12, "SIGPIPE": 13, "SIGALRM": 14, "SIGTERM": 15,
	"SIGSTKFLT": 16, "SIGCHLD": 17, "SIGCONT": 18, "SIGSTOP": 19, "SIGTSTP": 20,
	"SIGTTIN": 21, "SIGTTOU": 22, "SIGURG": 23, "SIGXCPU": 24, "SIGXFSZ": 25,
	"SIGVTALRM": 26, "SIGPROF": 27, "SIGWINCH": 28, "SIGIO": 29, "SIGPWR": 30,
	"SIGSYS": 31,
}

// SignalNumber returns the Linux number of the signal named name
// ("SIGTERM" is 15), or 0 for a name it does not know.
func SignalNumber(name string) int { return linuxSignals[name] }

// signalByNumber is linuxSignals inverted: signalByNumber[n] names signal n.
var signalByNumber = func() []string {
	names := make([]string, len(linuxSignals)+1)
	for name, n := range linuxSignals {
		names[n] = name
	}
	return names
}()

// SignalName returns the name of Linux signal n ("SIGTERM" for 15), or ""
// for a number SignalNumber does not know.
func SignalName(n int) string {
	if n < 1 || n >= len(signalByNumber) {
		return ""
	}
	return signalByNumber[n]
}

// SignalNames returns the signal names SignalNumber knows, in number order
// (SignalNames()[n-1] is signal n).
func SignalNames() []string { return slices.Clone(signalByNumber[1:]) }
