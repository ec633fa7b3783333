package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/process"
	"github.com/graceful-sh/graceful/internal/resident"
)

// CoordinatorRun is what RunCoordinator carries out.
type CoordinatorRun struct {
	// Coordinator configures the socket and the job containers.
	Coordinator Config
	// Profile is the coordinator's policy (runner "kubernetes").
	Profile *engine.Profile
	// Sinks receive the engine's events.
	Sinks []engine.Sink
	// Timeout, when positive, starts cancellation after this long.
	Timeout time.Duration
	// Stderr receives the coordinator's own messages; nil means os.Stderr.
	Stderr io.Writer
}

// coordinatorSignals are caught for the whole run: the profile decides
// what they mean, and a signal the profile does not name is logged and
// ignored rather than left to its default action.
var coordinatorSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2}

// RunCoordinator serves the socket and drives the profile's engine against
// the job containers until the outcome is decided and finalisation is over.
// The kubelet's SIGTERM is delivered to the engine, whose kubernetes
// profile maps it straight to cancel. It returns an error only when the
// coordinator could not start. It leaves SIGTERM, SIGINT, SIGQUIT, SIGHUP,
// SIGUSR1 and SIGUSR2 ignored: the process is about to exit.
func RunCoordinator(ctx context.Context, r CoordinatorRun) (engine.Result, error) {
	stderr := r.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "graceful: "+format+"\n", args...)
	}
	// 1. Catch signals first: a SIGTERM during start-up must not kill us
	// with the default action.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, coordinatorSignals...)
	// Ignored, not restored, on the way out: a SIGTERM between the end of
	// the run and the process's exit must not replace the job's status
	// with 143.
	defer signal.Ignore(coordinatorSignals...)

	resident.Trim()
	// As its container's PID 1 the coordinator inherits the orphans of its
	// finalisation commands; all its children come from the process
	// runner, so reaping them is safe.
	process.ReapOrphans()

	// 2. The socket.
	cfg := r.Coordinator
	if cfg.Output == nil {
		cfg.Output = os.Stdout
	}
	if cfg.Logf == nil {
		cfg.Logf = logf
	}
	c, err := Listen(cfg)
	if err != nil {
		return engine.Result{}, err
	}
	defer c.Close()
	logf("coordinator listening on %s for %d job container(s)", cfg.Socket, len(c.Statuses()))

	// 3. The engine, fed with signals by name and the timeout.
	eng, err := engine.New(engine.Config{Profile: r.Profile, Target: c, Sinks: r.Sinks})
	if err != nil {
		return engine.Result{}, err
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case s := <-sigs:
				eng.Deliver(process.SignalName(s.(syscall.Signal)))
			case <-stop:
				return
			}
		}
	}()
	if r.Timeout > 0 {
		t := time.AfterFunc(r.Timeout, func() { eng.Cancel("timeout") })
		defer t.Stop()
	}
	res := eng.Run(ctx)

	// 4. Summary, one line per container, in start order.
	for _, s := range c.Statuses() {
		switch {
		case s.State == StateExited:
			logf("summary: %s %s", s.Name, describeExit(s.Exit))
		case s.Reason != "":
			logf("summary: %s %s (%s)", s.displayName(), s.State, s.Reason)
		default:
			logf("summary: %s %s", s.displayName(), s.State)
		}
	}
	return res, nil
}

// JoinRun is what RunJoin carries out.
type JoinRun struct {
	// Client configures the connection.
	Client ClientConfig
	// Profile is the local timeline run against the job when the
	// coordinator says interrupt or disappears (the built-in "process"
	// profile by default). Its signal triggers are not used: join
	// swallows the kubelet's signals.
	Profile *engine.Profile
	// Args is the job's command.
	Args []string
	// Sinks receive the local engine's events.
	Sinks []engine.Sink
	// Cgroup chooses the process runner's tree tracking.
	Cgroup process.CgroupMode
	// OOMScoreAdj is written to the job's /proc/PID/oom_score_adj so the
	// kernel's OOM killer picks the job before join. Zero means 1000;
	// negative leaves it alone.
	OOMScoreAdj int
	// Stdout and Stderr are join's own; the job's output is written to
	// them and streamed to the coordinator. Nil means os.Stdout, os.Stderr.
	Stdout, Stderr *os.File
}

// joinSwallowed are the signals the kubelet (or a runtime) sends to a
// container's first process. join catches and ignores them: the job is
// signalled once, by its local timeline, when the coordinator says so.
var joinSwallowed = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT}

// joinForwarded are passed to the job's process group as they are: they
// mean something only to the job. SIGURG (the Go runtime's preemption
// signal), SIGCHLD and SIGWINCH are never caught, so never forwarded.
var joinForwarded = []os.Signal{syscall.SIGUSR1, syscall.SIGUSR2}

// Join exit statuses of its own, besides the job's status.
const (
	// ExitJoinFailed: join could not connect, was refused, or the
	// coordinator vanished before our turn (engine.ExitInternal).
	ExitJoinFailed = engine.ExitInternal
)

// RunJoin connects to the coordinator, waits for its turn, runs the job
// under the process runner and the local profile, streams the output,
// reports the exit and waits for the acknowledgement. It returns join's
// exit status: the job's (as the local engine decided it), ExitSkipped
// when told to skip, ExitJoinFailed when it never got to run the job. It
// leaves SIGTERM, SIGINT, SIGHUP and SIGQUIT ignored: the process is about
// to exit.
func RunJoin(ctx context.Context, r JoinRun) (int, error) {
	stdout, stderr := r.Stdout, r.Stderr
	if stdout == nil {
		stdout = os.Stdout
	}
	if stderr == nil {
		stderr = os.Stderr
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "graceful join: "+format+"\n", args...)
	}

	// 1. Signals: swallow the kubelet's, forward the job's own.
	swallowed := make(chan os.Signal, 8)
	signal.Notify(swallowed, joinSwallowed...)
	// Ignored, not restored, on the way out (see RunCoordinator).
	defer signal.Ignore(joinSwallowed...)
	forwarded := make(chan os.Signal, 8)
	signal.Notify(forwarded, joinForwarded...)
	defer signal.Stop(forwarded)
	stopSignals := make(chan struct{})
	defer close(stopSignals)
	var job *process.Runner
	var jobMu sync.Mutex
	go func() {
		said := false
		for {
			select {
			case s := <-swallowed:
				if !said {
					logf("ignoring %s (and any further SIGTERM, SIGINT, SIGHUP, SIGQUIT): the job is stopped by its own timeline when the coordinator says interrupt",
						process.SignalName(s.(syscall.Signal)))
					said = true
				}
			case s := <-forwarded:
				jobMu.Lock()
				if job != nil {
					_ = job.Signal(process.SignalName(s.(syscall.Signal)), engine.ScopeGroup)
				}
				jobMu.Unlock()
			case <-stopSignals:
				return
			}
		}
	}()

	resident.Trim()

	// 2. Connect and wait for our turn.
	if r.Client.Logf == nil {
		r.Client.Logf = logf
	}
	sess, err := Join(ctx, r.Client)
	if errors.Is(err, ErrFinished) {
		logf("skipped: the coordinator has already finished")
		return ExitSkipped, nil
	}
	if err != nil {
		return ExitJoinFailed, err
	}
	defer sess.Close()
	start, err := sess.WaitTurn(ctx)
	if err != nil {
		return ExitJoinFailed, err
	}
	if !start {
		logf("skipped: %s", sess.Reason())
		return ExitSkipped, nil
	}

	// 3. The job, its output teed to our own stdout/stderr (kubectl logs
	// of this container) and to the coordinator.
	outR, outW, err := os.Pipe()
	if err != nil {
		return ExitJoinFailed, reportFailure(sess, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return ExitJoinFailed, reportFailure(sess, err)
	}
	var copies sync.WaitGroup
	copies.Add(2)
	go func() {
		defer copies.Done()
		_, _ = io.Copy(io.MultiWriter(stdout, sess.LogWriter("stdout")), outR)
	}()
	go func() {
		defer copies.Done()
		_, _ = io.Copy(io.MultiWriter(stderr, sess.LogWriter("stderr")), errR)
	}()
	process.ReapOrphans()
	runner, startErr := process.Start(process.Options{Args: r.Args, Env: jobEnviron(), Stdout: outW, Stderr: errW, Cgroup: r.Cgroup})
	outW.Close()
	errW.Close()
	if runner == nil {
		outR.Close()
		errR.Close()
		return ExitJoinFailed, reportFailure(sess, startErr)
	}
	if startErr != nil {
		logf("%v", startErr)
	}
	jobMu.Lock()
	job = runner
	jobMu.Unlock()
	if pid := runner.Pid(); pid > 0 && r.OOMScoreAdj >= 0 {
		adj := r.OOMScoreAdj
		if adj == 0 {
			adj = 1000
		}
		if err := os.WriteFile("/proc/"+strconv.Itoa(pid)+"/oom_score_adj", []byte(strconv.Itoa(adj)), 0); err != nil {
			logf("could not raise the job's oom_score_adj: %v", err)
		}
	}

	// 4. The local engine: cancelled by the coordinator's interrupt, or
	// by the coordinator's disappearance.
	eng, err := engine.New(engine.Config{Profile: r.Profile, Target: runner, Sinks: r.Sinks})
	if err != nil {
		_ = runner.Abandon()
		_ = runner.Close(5 * time.Second)
		return ExitJoinFailed, reportFailure(sess, err)
	}
	finished := make(chan struct{})
	go func() {
		select {
		case <-sess.Interrupted():
			eng.Cancel(sess.Reason())
		case <-sess.Gone():
			logf("coordinator gone (%s): cancelling the job", sess.Reason())
			eng.Cancel("coordinator lost")
		case <-finished:
		}
	}()
	res := eng.Run(ctx)
	close(finished)
	if err := runner.Close(5 * time.Second); err != nil {
		logf("cleanup: %v", err)
	}
	jobMu.Lock()
	job = nil
	jobMu.Unlock()
	// The output is complete once every writer of the pipes is gone;
	// Close has killed what was left, so this is short.
	waitCopies(&copies, 2*time.Second, outR, errR)

	// 5. Report and wait for the acknowledgement.
	exit := res.Exit
	if res.Outcome == engine.OutcomeAbandoned {
		exit = engine.Exit{Abandoned: true, Code: res.Status}
	}
	select {
	case <-sess.Gone():
		// Nobody to report to; join said so when the coordinator went.
		return res.Status, nil
	default:
	}
	ackCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sess.ReportExit(ackCtx, exit); err != nil {
		logf("%v", err)
	}
	return res.Status, nil
}

// reportFailure tells the coordinator that the job could not be started,
// so the container is not counted as lost, and returns err.
func reportFailure(sess *Session, err error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = sess.ReportExit(ctx, engine.Exit{Code: ExitJoinFailed, Err: err})
	return err
}

func waitCopies(wg *sync.WaitGroup, d time.Duration, files ...*os.File) {
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
		// A descendant we could not kill still holds a pipe, or the
		// coordinator is not taking the output: stop reading rather than
		// hang. The copies end when the session closes, if not before.
		for _, f := range files {
			f.Close()
		}
		t.Reset(d)
		select {
		case <-ch:
		case <-t.C:
		}
	}
	for _, f := range files {
		f.Close()
	}
}

// TokenEnv is the environment variable that carries the shared token.
const TokenEnv = "GRACEFUL_TOKEN"

// jobEnviron is this process's environment without the token: jobs and
// finalisation commands have no use for it, and jobs that print their
// environment would put it in the logs.
func jobEnviron() []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, TokenEnv+"=") {
			out = append(out, kv)
		}
	}
	return out
}
