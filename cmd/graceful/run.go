package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"golang.org/x/term"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/process"
	"github.com/graceful-sh/graceful/internal/resident"
	"github.com/graceful-sh/graceful/policies"
)

// closeTimeout bounds the final teardown of what is left of the job after
// the engine is done (it has already been SIGKILLed by then, so this is
// only the time the kernel takes to clean up).
const closeTimeout = 5 * time.Second

// trimAfter is how long a job runs before graceful drops its start-up pages
// from its resident set (internal/resident).
const trimAfter = 200 * time.Millisecond

// caughtSignals are the signals graceful always handles itself, whether
// or not the profile names them, from before the job exists: a profile's
// silence means "ignore", and the Go runtime's default for these would end
// graceful (SIGQUIT with a goroutine dump). Handling (rather than SIG_IGN)
// keeps the job's dispositions default across exec.
var caughtSignals = []string{"SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM"}

// lateSignals, unless the profile names them, are caught only once the
// job has run lateAfter. Until then the Go runtime's own handler ignores
// them (its default ends the process for SIGHUP, SIGINT and SIGTERM, not
// for these), as the profile's silence says, and the job still gets them
// with the default disposition: catching them only makes the engine log
// them ("ignored: no trigger"). Each newly caught signal costs a round
// trip to the runtime's signal-mask thread, which a short run need not
// pay.
//
// The fault signals among them (SIGILL to SIGSYS below) are different:
// sent with kill, by the job for instance, the runtime's default for them
// is a goroutine dump and exit 2, which would leave the job's tree behind.
// Caught, they are ignored and logged like any signal the profile does not
// name (a real fault inside graceful still crashes it: the runtime tells
// the two apart). They too are caught late, so the first lateAfter of a
// run is the one window where such a signal still ends graceful; catching
// eight more signals before the fork would cost start-up about 0.4 ms.
var lateSignals = []string{"SIGUSR1", "SIGUSR2", "SIGALRM",
	"SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGSEGV", "SIGSTKFLT", "SIGSYS"}

const lateAfter = 5 * time.Millisecond

// newRunCmd builds `graceful run`.
func newRunCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run [flags] [--] command [args...]",
		Short: "Run a command under a cancellation profile",
		Long: `Run a command under a cancellation profile (the built-in "process" by default).

Everything after the command name, or after "--", belongs to the command.
Signals graceful receives are counted and mapped by the profile; --timeout
starts cancellation like coreutils timeout. See docs/exit-codes.md for the
exit status.`,
		Example: `  graceful run -- make test
  graceful run --timeout 10m --profile process -- ./build.sh --fast
  graceful run --policy ci.hcl --events events.jsonl -- ./job`,
		// Like timeout, env and nohup, run reports its own failures,
		// usage errors included, as 125, so they cannot be mistaken for
		// the job's status.
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd, v, args)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return withStatus(exitInternal, fmt.Errorf("run: %w\nRun 'graceful run --help' for usage", err))
	})
	// The job's flags are the job's: stop parsing at the command name.
	cmd.Flags().SetInterspersed(false)
	fs := cmd.Flags()
	fs.String("policy", "", "policy file or directory, loaded with the built-in profiles")
	fs.String("profile", "", `profile to run under (default "process")`)
	fs.Duration("timeout", 0, "start cancellation after this long (0: never)")
	fs.String("events", "", `write every event as a JSON line to FILE ("-": stdout)`)
	fs.Bool("reraise", false, "when the job dies of a signal, die of the same signal (instead of exiting 128+N)")
	fs.String("cgroup", "auto", "tree tracking: auto, on (require a cgroup v2 leaf) or off (subreaper and /proc sweep)")
	fs.Bool("foreground", false, "give the job the terminal: it can read it, and Ctrl-C goes to the job instead of through the profile")
	fs.BoolP("verbose", "v", false, "log every event, not only signals and cancellation")
	addCoordinatorFlags(fs)
	return cmd
}

// surviveEPIPE keeps a supervisor (run, join) alive when its stdout or
// stderr pipe is closed (`graceful run ... 2>&1 | head -1`): the Go runtime
// would otherwise die of SIGPIPE before the cleanup. With SIGPIPE caught the
// write fails with EPIPE instead; caught, not ignored, so the job still
// gets the default disposition.
func surviveEPIPE() { signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE) }

// pipeSafe is a writer to graceful's own stdout or stderr that catches
// SIGPIPE (surviveEPIPE) before its first write. The runtime kills the
// process only when a write to fd 1 or 2 fails with EPIPE, so a run that
// writes nothing (most of them) never pays for catching it: each newly
// caught signal is a round trip to the runtime's signal-mask thread.
type pipeSafe struct{ w io.Writer }

var pipeCaught sync.Once

func (p pipeSafe) Write(b []byte) (int, error) {
	pipeCaught.Do(surviveEPIPE)
	return p.w.Write(b)
}

func runRun(cmd *cobra.Command, v *viper.Viper, args []string) error {
	prof, err := policies.Find(v.GetString("policy"), v.GetString("profile"))
	if err != nil {
		return withStatus(exitInternal, err)
	}
	// Like timeout, env and nohup, run reports its own failures, usage
	// errors included, as 125, so they cannot be mistaken for the job's
	// status. The coordinator of a pod runs no command of its own: its
	// jobs are the job containers that join it.
	if prof.Runner == engine.RunnerKubernetes {
		if len(args) > 0 {
			return withStatus(exitInternal, fmt.Errorf("run: profile %q coordinates job containers and runs no command (got %q); start jobs with graceful join", prof.Name, args[0]))
		}
		pipeCaught.Do(surviveEPIPE) // the coordinator writes to stderr directly
		return runCoordinator(cmd, v, prof)
	}
	if len(args) == 0 {
		return withStatus(exitInternal, errors.New("run: no command given\nUsage: graceful run [flags] [--] command [args...]"))
	}
	mode, err := process.ParseCgroupMode(v.GetString("cgroup"))
	if err != nil {
		return withStatus(exitInternal, fmt.Errorf("--cgroup: %w", err))
	}
	timeout := v.GetDuration("timeout")
	if timeout < 0 {
		return withStatus(exitInternal, fmt.Errorf("--timeout %v: must not be negative", timeout))
	}
	// Everything run writes goes through an Outbox (never blocks the
	// timeline: a stalled reader loses lines, counted) and pipeSafe.
	out := newOutputs()
	defer out.close()
	stderr := out.stderr

	// 1. Sinks: what happened, on stderr (only signals and cancellation
	// unless --verbose), a live status line when stderr is a terminal,
	// and every event as JSON to --events.
	var sinks []engine.Sink
	var textW io.Writer = stderr
	var status *engine.StatusLine
	// No status line when the job has the terminal (--foreground): Ctrl-C
	// goes to the job then, so "Ctrl-C again to ..." would be wrong.
	if term.IsTerminal(int(os.Stderr.Fd())) && !v.GetBool("foreground") {
		status = engine.NewStatusLine(stderr)
		defer status.Close()
		textW = status.Wrap(stderr)
	}
	text := engine.NewTextSink(textW)
	if v.GetBool("verbose") {
		sinks = append(sinks, text)
	} else {
		sinks = append(sinks, engine.SinkFunc(func(e engine.Event) {
			if noteworthy(e) {
				text.Emit(e)
			}
		}))
	}
	if status != nil {
		sinks = append(sinks, status)
	}
	if name := v.GetString("events"); name != "" {
		w, err := out.openEvents(name)
		if err != nil {
			return withStatus(exitInternal, err)
		}
		sinks = append(sinks, engine.NewJSONSink(w))
	}

	// 2. Catch signals before the job exists, so none is missed or
	// handled by default in between. They stay caught until graceful
	// exits (no signal.Stop): a SIGTERM arriving after the job ended must
	// not kill graceful and change its status, and each signal stopped
	// would cost a round trip to the runtime's signal-mask thread.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, notifySet(prof)...)
	// Job control: Ctrl-Z stops the job, then graceful (unless the
	// profile makes SIGTSTP a trigger). SIGCONT is caught only when
	// graceful is about to stop itself (suspend).
	tstp, cont := make(chan os.Signal, 1), make(chan os.Signal, 1)
	var contOnce sync.Once
	_, trigger := prof.Triggers["SIGTSTP"]
	jobControl := !trigger
	if jobControl {
		signal.Notify(tstp, syscall.SIGTSTP)
	}

	// 3. Start the job. A command that cannot start still goes through the
	// engine (finalisation runs, the outcome is failed-to-start).
	process.ReapOrphans()
	var (
		hinted     sync.Once
		job        *process.Runner
		started    = make(chan struct{}) // closed once job is set
		suspending atomic.Bool
	)
	foreground := v.GetBool("foreground")
	// suspend stops graceful itself (the shell then sees its job stopped
	// and takes the terminal back) and, once continued, the job too.
	suspend := func() {
		if !jobControl || !suspending.CompareAndSwap(false, true) {
			return
		}
		<-started // OnStop may run before Start has returned
		defer suspending.Store(false)
		contOnce.Do(func() { signal.Notify(cont, syscall.SIGCONT) })
		select { // a stale SIGCONT
		case <-cont:
		default:
		}
		// kill returns before the stop takes effect: the SIGCONT that
		// ends the stop is what says graceful was continued.
		_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
		<-cont
		_ = job.Continue()
	}
	job, err = process.Start(process.Options{
		Args:       args,
		Cgroup:     mode,
		Foreground: foreground,
		OnStop: func(sig syscall.Signal) {
			switch {
			case sig == syscall.SIGTTIN || sig == syscall.SIGTTOU:
				hinted.Do(func() {
					fmt.Fprintf(stderr, "graceful: the job is stopped (%s): it used the terminal from its background process group; run with --foreground to give it the terminal\n", process.SignalName(sig))
				})
			case sig == syscall.SIGTSTP && foreground:
				// Ctrl-Z reached the job, which has the terminal.
				suspend()
			}
		},
	})
	close(started)
	if job == nil {
		return withStatus(exitInternal, err)
	}
	if err != nil {
		fmt.Fprintf(stderr, "graceful: %v\n", err)
	}
	defer func() {
		if err := job.Close(closeTimeout); err != nil {
			fmt.Fprintf(stderr, "graceful: cleanup: %v\n", err)
		}
	}()

	eng, err := engine.New(engine.Config{Profile: prof, Target: job, Sinks: sinks})
	if err != nil {
		_ = job.Abandon()
		return withStatus(exitInternal, err)
	}

	// 4. Feed the engine: signals by name, --timeout as a cancel.
	// One goroutine for both: while graceful is suspended, signals wait.
	go func() {
		for {
			select {
			case s := <-sigs:
				if n, ok := s.(syscall.Signal); ok {
					eng.Deliver(process.SignalName(n))
				}
			case <-tstp:
				_ = job.Signal("SIGTSTP", engine.ScopeGroup)
				suspend()
			}
		}
	}()
	if late := lateSet(prof); len(late) > 0 {
		t := time.AfterFunc(lateAfter, func() { signal.Notify(sigs, late...) })
		defer t.Stop()
	}
	if timeout > 0 {
		t := time.AfterFunc(timeout, func() { eng.Cancel("timeout") })
		defer t.Stop()
	}
	// A job that lives on leaves graceful mostly waiting: give back the
	// executable's start-up pages then. A short job never pays for it.
	trim := time.AfterFunc(trimAfter, resident.Trim)
	defer trim.Stop()

	res := eng.Run(cmd.Context())

	// 5. Nothing of the job survives graceful; then the exit status.
	if err := job.Close(closeTimeout); err != nil {
		fmt.Fprintf(stderr, "graceful: cleanup: %v\n", err)
	}
	if res.FinalizeErr != nil {
		fmt.Fprintf(stderr, "graceful: finalize: %v\n", res.FinalizeErr)
	}
	if v.GetBool("reraise") && res.Exit.Signal != "" && res.Status == res.Exit.Status() {
		signal.Stop(sigs)
		if status != nil {
			status.Close()
		}
		out.close()
		process.Reraise(syscall.Signal(res.Exit.SignalNumber))
	}
	if res.Status == 0 {
		return nil
	}
	return silentStatus(res.Status)
}

// notifySet is the profile's trigger signals plus caughtSignals, without
// the uncatchable ones.
func notifySet(prof *engine.Profile) []os.Signal {
	seen := make(map[syscall.Signal]bool)
	var out []os.Signal
	add := func(name string) {
		n, err := process.SignalNumber(name)
		if err != nil || n == syscall.SIGKILL || n == syscall.SIGSTOP || seen[n] {
			return
		}
		seen[n] = true
		out = append(out, n)
	}
	for name := range prof.Triggers {
		add(name)
	}
	for _, name := range caughtSignals {
		add(name)
	}
	return out
}

// lateSet is lateSignals without those notifySet already catches.
func lateSet(prof *engine.Profile) []os.Signal {
	var out []os.Signal
	for _, name := range lateSignals {
		if _, ok := prof.Triggers[name]; ok {
			continue
		}
		if n, err := process.SignalNumber(name); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// noteworthy keeps the quiet log to what a person must see: signals
// received, cancellation and everything after t0, actions, failures.
func noteworthy(e engine.Event) bool {
	return e.Cancelled || e.Action != "" || strings.HasPrefix(e.Cause, "signal") ||
		strings.HasPrefix(e.Cause, "timeout") || (e.Result != "" && e.Result != "ok")
}
