//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
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
	"github.com/graceful-sh/graceful/engine/supervise"
	"github.com/graceful-sh/graceful/internal/resident"
)

// closeTimeout bounds the final teardown of what is left of the job after
// the engine is done (it has already been SIGKILLed by then, so this is
// only the time the kernel takes to clean up).
const closeTimeout = 5 * time.Second

// newRunTree is the command tree of a `graceful run` command line: the
// root and run alone (commandFor). The signals every run catches begin to
// be caught at once, while the flags and the profile are read
// (supervise.Ahead); the function returned releases them should the run
// not take them over.
func newRunTree() (*cobra.Command, func()) {
	ahead := supervise.CatchAhead(supervise.BaseSignals()...)
	process.ReserveThreads() // the job's fork waits for it too
	v := viper.New()
	root := newRoot(v)
	// A run command line never reaches cobra's completion command, which
	// cobra would otherwise build (four shells' help texts) on every run.
	root.CompletionOptions.DisableDefaultCmd = true
	cmd := runCommand(v, ahead)
	addConfigFlag(cmd)
	root.AddCommand(cmd)
	return root, ahead.Release
}

// newRunCmd builds `graceful run`.
func newRunCmd(v *viper.Viper) *cobra.Command { return runCommand(v, nil) }

// runCommand builds `graceful run`, with the catch ahead begun for it, if
// any.
func runCommand(v *viper.Viper, ahead *supervise.Ahead) *cobra.Command {
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
			// The threads kept for a job that uses up its pids limit
			// are made while the policy loads; the job's start waits
			// for them (engine/process/nproc.go).
			process.ReserveThreads()
			return runRun(cmd, v, args, ahead)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return withStatus(exitInternal, fmt.Errorf("run: %w%s\nRun 'graceful run --help' for usage", err, flagSuggestion(c.Flags(), err)))
	})
	// The job's flags are the job's: stop parsing at the command name.
	cmd.Flags().SetInterspersed(false)
	fs := cmd.Flags()
	fs.String("policy", "", "policy file or directory, loaded with the built-in profiles")
	fs.String("profile", "", `profile to run under (default: the only profile of --policy if it defines one, else "process")`)
	timeout := timeoutValue(0)
	fs.Var(&timeout, "timeout", "start cancellation after this long: 90s, 10m, 2d (0: never)")
	fs.String("events", "", `write every event as a JSON line to FILE ("-": stdout)`)
	fs.String("receipt", "", "write the termination receipt, one JSON document, to FILE (see docs/receipt.md)")
	fs.Bool("reraise", false, "when the job dies of a signal, die of the same signal (instead of exiting 128+N)")
	fs.String("cgroup", "auto", "tree tracking: auto, on (require a cgroup v2 leaf) or off (subreaper and /proc sweep)")
	fs.Bool("foreground", false, "give the job the terminal: it can read it, and Ctrl-C goes to the job instead of through the profile")
	fs.BoolP("verbose", "v", false, "log every event, not only signals and cancellation")
	addCoordinatorFlags(fs)
	return cmd
}

func runRun(cmd *cobra.Command, v *viper.Viper, args []string, ahead *supervise.Ahead) error {
	prof, err := findForRun(v.GetString("policy"), v.GetString("profile"))
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
		ahead.Release()          // the coordinator catches its own
		supervise.SurviveEPIPE() // the coordinator writes to stderr directly
		return runCoordinator(cmd, v, prof)
	}
	if len(args) == 0 {
		return withStatus(exitInternal, errors.New("run: no command given\nUsage: graceful run [flags] [--] command [args...]"))
	}
	mode, err := process.ParseCgroupMode(v.GetString("cgroup"))
	if err != nil {
		return withStatus(exitInternal, fmt.Errorf("--cgroup: %w", err))
	}
	timeout, err := parseTimeout(v.GetString("timeout"))
	if err != nil {
		return withStatus(exitInternal, fmt.Errorf("--timeout: %w", err))
	}
	// The signals: caught ahead (supervise.CatchAhead, begun with the
	// command tree for a run command line, else here: the round trips it
	// makes to the runtime overlap the rest of the start-up, and the
	// job's fork waits for them) and kept caught until graceful exits
	// (a SIGTERM after the job ended must not change the status). Job
	// control: Ctrl-Z stops the job, then graceful (unless the
	// profile makes SIGTSTP a trigger). SIGCONT is caught only when
	// graceful is about to stop itself (suspend).
	plan := supervise.ProfilePlan(prof)
	cont := make(chan os.Signal, 1)
	var contOnce sync.Once
	_, trigger := prof.Triggers["SIGTSTP"]
	jobControl := !trigger
	var (
		hinted     sync.Once
		job        *process.Runner
		started    = make(chan struct{}) // closed once job is set
		startOnce  sync.Once
		suspending atomic.Bool
	)
	markStarted := func() { startOnce.Do(func() { close(started) }) }
	defer markStarted()
	foreground := v.GetBool("foreground")
	// suspend stops graceful itself (the shell then sees its job stopped
	// and takes the terminal back) and, once continued, the job too.
	suspend := func() {
		if !jobControl || !suspending.CompareAndSwap(false, true) {
			return
		}
		<-started // OnStop may run before Start has returned
		defer suspending.Store(false)
		if job == nil {
			return
		}
		contOnce.Do(func() { supervise.Catch(cont, "SIGCONT") })
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
	if jobControl {
		// While graceful is suspended, the other signals wait. SIGTTIN
		// and SIGTTOU sent to graceful stop the job and graceful alike,
		// as SIGTSTP does (not with --foreground: graceful is then in the
		// background of the job's terminal, and the kernel's SIGTTOU for
		// its own writes must not stop the job).
		stopBoth := func(sig string) func() {
			return func() {
				<-started
				if job != nil {
					_ = job.Signal(sig, engine.ScopeGroup)
				}
				suspend()
			}
		}
		plan.Intercept = map[string]func(){"SIGTSTP": stopBoth("SIGTSTP")}
		if !foreground {
			for _, sig := range []string{"SIGTTIN", "SIGTTOU"} {
				if _, named := prof.Triggers[sig]; !named {
					plan.Intercept[sig] = stopBoth(sig)
				}
			}
		}
	}
	if ahead == nil {
		ahead = supervise.CatchAhead()
	}
	// What the profile means caught before the job is forked; job
	// control (the intercepted signals) while its exec runs: a stop that
	// arrives in that fraction of a millisecond stops graceful alone, as
	// it did before graceful caught it at all (docs/process.md).
	ahead.Add(slices.Concat(plan.Deliver, plan.Swallow, plan.Forward)...)
	ahead.AddDuringStart(slices.Sorted(maps.Keys(plan.Intercept))...)
	defer ahead.Release()

	// Everything run writes goes through an Outbox (never blocks the
	// timeline: a stalled reader loses lines, counted) and pipeSafe.
	out := newOutputs()
	defer out.close()
	var stderr io.Writer = out.stderr

	// 1. Sinks: what happened, on stderr (only signals and cancellation
	// unless --verbose), status lines when stderr is a terminal, and
	// every event as JSON to --events.
	verbose := v.GetBool("verbose")
	var sinks []engine.Sink
	var status *engine.StatusLine
	// No status line when the job has the terminal (--foreground): Ctrl-C
	// goes to the job then, so "Ctrl-C again to ..." would be wrong.
	if term.IsTerminal(int(os.Stderr.Fd())) && !v.GetBool("foreground") {
		status = engine.NewStatusLine(stderr, terminalColumns(os.Getenv, os.Stderr))
		defer status.Close()
		// The job writes to this terminal too: graceful's own lines
		// start on a line of their own as well.
		stderr = status.Wrap(stderr)
	}
	text := engine.NewTextSink(stderr)
	if verbose {
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
	} else {
		// Without a terminal there is no status line to say what the
		// next signal does: say it once, when a drain begins.
		sinks = append(sinks, engine.SinkFunc(func(e engine.Event) {
			if e.From == engine.StateRunning && e.To == engine.StateDraining && e.LastSignal != "" && e.NextSignal != "" {
				fmt.Fprintf(stderr, "graceful: draining: the job may finish; send %s again to %s\n", e.LastSignal, e.NextSignal)
			}
		}))
	}
	if verbose {
		from := "built in"
		if p := v.GetString("policy"); p != "" {
			from = "from " + p
		}
		fmt.Fprintf(stderr, "graceful: profile %q (%s)\n", prof.Name, from)
	}
	if name := v.GetString("events"); name != "" {
		w, err := out.openEvents(name)
		if err != nil {
			return withStatus(exitInternal, err)
		}
		sinks = append(sinks, engine.NewJSONSink(w))
	}

	// The termination receipt: to --receipt, and for the finalisation
	// and command steps (GRACEFUL_RECEIPT) when the profile has any.
	rcpt, err := newReceiptFile(prof, v.GetString("receipt"))
	if err != nil {
		return withStatus(exitInternal, err)
	}
	defer rcpt.cleanup()
	if rcpt != nil {
		sinks = append(sinks, rcpt.sink)
	}

	// 2. The job, under the one supervise lifecycle (its signals are
	// being caught since the start of this function).
	opts := process.Options{
		Args:       args,
		Cgroup:     mode,
		Foreground: foreground,
		Ready:      ahead.Ready(),
		// A job that ends on its own but leaves a busy tree behind
		// gets its cleanup at the raised priority too.
		Urgent: process.RaisePriority,
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
	}
	res, err := supervise.Run(cmd.Context(), supervise.Spec{
		Profile:    prof,
		Signals:    plan,
		Ahead:      ahead,
		Sinks:      sinks,
		Timeout:    timeout,
		Env:        rcpt.env(),
		KeepCaught: true,
		Logf: func(format string, args ...any) {
			fmt.Fprintf(stderr, "graceful: "+format+"\n", args...)
		},
		// A command that cannot start still goes through the engine
		// (finalisation runs, the outcome is failed-to-start).
		Start: func() (supervise.Job, error) {
			process.ReapOrphans()
			r, err := process.Start(opts)
			if r != nil && verbose {
				fmt.Fprintf(stderr, "graceful: tree: %s\n", treeLine(r.Cgroup(), r.NoCgroup()))
			}
			if r == nil {
				var se *process.StartError
				if !errors.As(err, &se) {
					markStarted()
					return nil, err
				}
				r = process.Failed(opts, err)
			}
			job = r
			markStarted()
			return r.Job(closeTimeout), err
		},
		// A job that lives on leaves graceful mostly waiting: start the
		// guardian that kills the job's leaf should graceful be
		// SIGKILLed, and give back the executable's start-up pages. A
		// short job never pays for these.
		Settle: func() {
			// The guardian first: starting it touches pages the trim
			// would otherwise have to give back again.
			if err := job.StartGuardian(); err != nil {
				fmt.Fprintf(stderr, "graceful: guardian: %v (the job's tree will not die with graceful if graceful is SIGKILLed)\n", err)
			}
			resident.Trim()
		},
		// Once the timeline's steps are near, raise graceful's priority
		// so that they are on time even when the job keeps every core
		// busy.
		Urgent: process.RaisePriority,
	})
	if err != nil {
		return withStatus(exitInternal, err)
	}

	// 3. The escape report, the receipt and the exit status.
	if res.FinalizeErr != nil {
		fmt.Fprintf(stderr, "graceful: finalize: %v\n", res.FinalizeErr)
	}
	var escaped []process.Escape
	if job != nil {
		escaped = job.Escaped()
	}
	for _, e := range escaped {
		fmt.Fprintf(stderr, "graceful: escaped the job's process group: %s\n", e)
	}
	if err := rcpt.finish(res, out, escaped); err != nil {
		fmt.Fprintf(stderr, "graceful: --receipt: %v\n", err)
	}
	if v.GetBool("reraise") && res.Exit.Signal != "" && res.Status == res.Exit.Status() {
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

// terminalColumns returns what tells a StatusLine the width of the
// terminal f: nil when TERM is "dumb" or unset, so that such a terminal
// gets no control characters.
func terminalColumns(getenv func(string) string, f *os.File) func() int {
	if t := getenv("TERM"); t == "" || t == "dumb" {
		return nil
	}
	return func() int {
		w, _, err := term.GetSize(int(f.Fd()))
		if err != nil {
			return 0
		}
		return w
	}
}

// noteworthy keeps the quiet log to what a person must see: signals
// received, cancellation and everything after t0, actions, failures.
func noteworthy(e engine.Event) bool {
	return e.Cancelled || e.Action != "" || strings.HasPrefix(e.Cause, "signal") ||
		strings.HasPrefix(e.Cause, "timeout") || (e.Result != "" && e.Result != "ok")
}

// treeLine is -v's line on how the job's tree is tracked: its cgroup leaf,
// or the /proc sweep, with why there is no leaf and what that costs (no
// guardian: docs/process.md).
func treeLine(leaf string, why error) string {
	if leaf != "" {
		return "cgroup " + leaf
	}
	reason := "cgroup off"
	if why != nil {
		reason = "no cgroup leaf: " + why.Error()
	}
	return "/proc sweep (" + reason + "); if graceful is SIGKILLed, the job's processes that left its process group survive it"
}
