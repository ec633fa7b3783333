package supervise

import (
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/internal/startsignals"
)

// Disposition is what a supervising graceful does with a signal it
// receives. The table below is the one place that says it for every
// signal; run, join and the coordinator all read it.
type Disposition uint8

// Dispositions.
const (
	// Inherited: not caught unless a profile names the signal; the job
	// gets the disposition graceful was started with.
	Inherited Disposition = iota
	// Always: caught from before the job starts, whatever the profile
	// says (its silence then means "ignore"): the Go runtime's default
	// would end graceful.
	Always
	// Late: caught once the job has run LateAfter, unless the profile
	// names it. Until then the Go runtime ignores it (its default does not
	// end the process for these), and catching costs start-up time.
	Late
	// Fault: a fault signal sent with kill (by the job, say). The
	// runtime's default is a goroutine dump and exit 2, which would leave
	// the job's tree behind; caught from the start, logged and ignored. A
	// real fault inside graceful still crashes it. Catching them costs
	// next to nothing: but for SIGABRT the runtime has them handled
	// already and needs no round trip to its signal-mask thread (measured:
	// under 1 µs for seven, 6 to 26 µs for SIGABRT).
	Fault
	// Reserved: the Go runtime uses it (SIGURG: preemption, sent by the
	// runtime to itself many times a second; SIGPROF: profiling).
	// graceful cannot receive it faithfully, so it is never caught, and a
	// profile may not name it as a trigger.
	Reserved
	// Uncatchable: SIGKILL and SIGSTOP.
	Uncatchable
	// Owned: caught by a part of graceful for its own use: SIGCHLD (the
	// orphan reaper), SIGPIPE (so a closed stdout gives EPIPE), SIGTSTP,
	// SIGTTIN, SIGTTOU and SIGCONT (job control).
	Owned
)

var table = map[string]Disposition{
	"SIGHUP": Always, "SIGINT": Always, "SIGQUIT": Always, "SIGTERM": Always,
	"SIGUSR1": Late, "SIGUSR2": Late, "SIGALRM": Late,
	"SIGILL": Fault, "SIGTRAP": Fault, "SIGABRT": Fault, "SIGBUS": Fault,
	"SIGFPE": Fault, "SIGSEGV": Fault, "SIGSTKFLT": Fault, "SIGSYS": Fault,
	"SIGURG": Reserved, "SIGPROF": Reserved,
	"SIGKILL": Uncatchable, "SIGSTOP": Uncatchable,
	"SIGCHLD": Owned, "SIGPIPE": Owned, "SIGTSTP": Owned, "SIGCONT": Owned,
	"SIGTTIN": Owned, "SIGTTOU": Owned,
}

// Of returns the disposition of the signal named name ("SIGTERM").
func Of(name string) Disposition { return table[name] }

// ReservedReason says what the Go runtime does with a Reserved signal
// ("preempts goroutines with it, ..."), for diagnostics that begin "The Go
// runtime graceful is written in ..."; empty for any other signal.
func ReservedReason(name string) string {
	switch name {
	case "SIGURG":
		return "preempts goroutines with it, so graceful receives it from itself at any time"
	case "SIGPROF":
		return "keeps it for its CPU profiler, so a delivery may never reach graceful's handler"
	}
	return ""
}

// Catch has the Go runtime deliver the named signals to ch. It is the one
// place in graceful that calls signal.Notify; names that are Reserved or
// Uncatchable, or unknown, are left alone.
//
// A signal that graceful was started with ignored (nohup, a shell's
// background job) stays ignored, as coreutils timeout and tini keep it:
// graceful does not act on it, and the job inherits it ignored. Catching
// it would hand the job the default disposition instead. The signals
// graceful owns (SIGCHLD, SIGPIPE, SIGTSTP, SIGCONT) are caught all the
// same: graceful needs them to work.
func Catch(ch chan<- os.Signal, names ...string) {
	if sigs := catchable(names); len(sigs) > 0 {
		signal.Notify(ch, sigs...)
	}
}

// catchable is what Catch catches of names.
func catchable(names []string) []os.Signal {
	sigs := make([]os.Signal, 0, len(names))
	for _, name := range names {
		d := Of(name)
		if d == Reserved || d == Uncatchable {
			continue
		}
		n := engine.SignalNumber(name)
		if n == 0 {
			continue
		}
		if d != Owned && startsignals.IgnoredAtStart(syscall.Signal(n)) {
			continue
		}
		sigs = append(sigs, syscall.Signal(n))
	}
	return sigs
}

// Name is the name of a signal Catch delivered ("SIGTERM").
func Name(s os.Signal) string {
	if n, ok := s.(syscall.Signal); ok {
		if name := engine.SignalName(int(n)); name != "" {
			return name
		}
	}
	return s.String()
}

// SurviveEPIPE catches SIGPIPE, once per process: a supervisor whose
// stdout or stderr pipe is closed (`graceful run ... | head -1`) then gets
// EPIPE from its write instead of dying before its cleanup. Caught, not
// ignored, so the job still gets the default disposition.
func SurviveEPIPE() { pipeOnce.Do(func() { Catch(make(chan os.Signal, 1), "SIGPIPE") }) }

var pipeOnce sync.Once

// Plan says which signals a supervised run catches and what each means.
type Plan struct {
	// Deliver are caught before the job starts and handed to the engine,
	// whose profile decides what they mean.
	Deliver []string
	// Late are caught LateAfter into the run and handed to the engine.
	Late []string
	// Swallow are caught and dropped (join: the kubelet's SIGTERM is not
	// for the job; its timeline stops it). OnSwallow, if set, is told.
	Swallow   []string
	OnSwallow func(name string)
	// Forward are caught and sent as they are to the job's process group.
	Forward []string
	// Intercept are caught and handed to the caller's function (run:
	// SIGTSTP for job control), on the goroutine that feeds the engine.
	Intercept map[string]func()
}

// ProfilePlan is the plan of run and the coordinator: the profile's
// triggers and the Always and Fault signals from the start, the Late
// signals the profile does not name a little later. Reserved and
// uncatchable triggers are never caught (validation refuses them).
func ProfilePlan(p *engine.Profile) Plan {
	var plan Plan
	seen := map[string]bool{}
	add := func(list *[]string, name string) {
		if !seen[name] {
			seen[name] = true
			*list = append(*list, name)
		}
	}
	for name := range p.Triggers {
		switch Of(name) {
		case Reserved, Uncatchable:
		default:
			add(&plan.Deliver, name)
		}
	}
	for _, name := range BaseSignals() {
		add(&plan.Deliver, name)
	}
	for _, name := range signalsOf(Late) {
		add(&plan.Late, name)
	}
	return plan
}

// BaseSignals lists the signals every ProfilePlan delivers to the engine
// whatever the profile says: the Always ones and the faults.
func BaseSignals() []string { return signalsOf(Always, Fault) }

// signalsOf lists the signals of the dispositions ds, in number order.
func signalsOf(ds ...Disposition) []string {
	var names []string
	for _, name := range engine.SignalNames() {
		if slices.Contains(ds, Of(name)) {
			names = append(names, name)
		}
	}
	return names
}

// Caught lists the signals Run catches for p before the job starts: the
// Late ones come later.
func (p Plan) Caught() []string {
	names := slices.Concat(p.Deliver, p.Swallow, p.Forward)
	for name := range p.Intercept {
		names = append(names, name)
	}
	return names
}

// FaultSignals are the Fault signals, for a plan of its own (join) to
// deliver from the start.
func FaultSignals() []string { return signalsOf(Fault) }
