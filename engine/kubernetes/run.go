//go:build linux

package kubernetes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/process"
	"github.com/graceful-sh/graceful/engine/supervise"
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
	// KeepSignals leaves the caught signals caught (and dropped) when
	// RunCoordinator returns, for a process about to exit: see
	// supervise.Spec.KeepCaught.
	KeepSignals bool
	// OnSummary, when set, is called at the end with the job containers'
	// statuses and the receipts their joins reported (nil where none), in
	// start order: the pod's receipt is made of them.
	OnSummary func([]ContainerStatus, [][]byte)
}

// RunCoordinator serves the socket and drives the profile's engine against
// the job containers until the outcome is decided and finalisation is over.
// It catches the profile's signals as graceful run does (supervise's
// table): the kubelet's SIGTERM is delivered to the engine, whose
// kubernetes profile maps it straight to cancel. It returns an error only
// when the coordinator could not start. The signals get their previous
// handling back when it returns, unless r.KeepSignals.
func RunCoordinator(ctx context.Context, r CoordinatorRun) (engine.Result, error) {
	stderr := r.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "graceful: "+format+"\n", args...)
	}
	cfg := r.Coordinator
	if cfg.Output == nil {
		cfg.Output = os.Stdout
	}
	if cfg.Logf == nil {
		cfg.Logf = logf
	}
	var c *Coordinator
	// A job container's report of the kubelet's SIGTERM cancels as the
	// coordinator's own SIGTERM does: as a native sidecar (KEP-753) the
	// coordinator is signalled only after every job container exited.
	cancel, stop := make(chan string, 1), make(chan struct{})
	defer close(stop)
	res, err := supervise.Run(ctx, supervise.Spec{
		Profile:    r.Profile,
		Signals:    supervise.ProfilePlan(r.Profile),
		Sinks:      r.Sinks,
		Timeout:    r.Timeout,
		Cancel:     cancel,
		KeepCaught: r.KeepSignals,
		Logf:       logf,
		// Once the pod runs, the coordinator mostly waits: give back the
		// pages start-up and the first connections touched.
		Settle: resident.Trim,
		Start: func() (supervise.Job, error) {
			resident.Trim()
			// As its container's PID 1 the coordinator inherits the
			// orphans of its finalisation commands; all its children
			// come from the process runner, so reaping them is safe.
			process.ReapOrphans()
			var err error
			if c, err = Listen(cfg); err != nil {
				return nil, err
			}
			logf("coordinator listening on %s for %d job container(s)", cfg.Socket, len(c.Statuses()))
			term := c.Terminating()
			go func() {
				select {
				case cause := <-term:
					cancel <- cause
				case <-stop:
				}
			}()
			return coordinatorJob{c}, nil
		},
	})
	if err != nil {
		return engine.Result{}, err
	}
	if r.OnSummary != nil {
		r.OnSummary(c.Statuses(), c.Receipts())
	}
	// Summary, one line per container, in start order.
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

// coordinatorJob is the coordinator as a supervise.Job.
type coordinatorJob struct{ *Coordinator }

func (c coordinatorJob) Close() error { return c.Coordinator.Close() }

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
	Stdout, Stderr io.Writer
	// KeepSignals leaves the swallowed signals caught (and dropped) when
	// RunJoin returns, for a process about to exit: see
	// supervise.Spec.KeepCaught.
	KeepSignals bool
}

// joinSwallowed are the signals the kubelet (or a runtime) sends to a
// container's first process. join catches and ignores them: the job is
// signalled once, by its local timeline, when the coordinator says so.
var joinSwallowed = []string{"SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"}

// joinForwarded are passed to the job's process group as they are: they
// mean something only to the job. SIGURG (the Go runtime's preemption
// signal), SIGCHLD and SIGWINCH are never caught, so never forwarded.
var joinForwarded = []string{"SIGUSR1", "SIGUSR2"}

// Join exit statuses of its own, besides the job's status.
const (
	// ExitJoinFailed: join could not connect, was refused, or the
	// coordinator vanished before our turn (engine.ExitInternal).
	ExitJoinFailed = engine.ExitInternal
)

// errSkipped ends the supervised run of a join told to skip its job.
var errSkipped = errors.New("skipped")

// RunJoin connects to the coordinator, waits for its turn, runs the job
// under the process runner and the local profile, streams the output,
// reports the exit and waits for the acknowledgement. It returns join's
// exit status: the job's (as the local engine decided it), ExitSkipped
// when told to skip, ExitJoinFailed when it never got to run the job.
// SIGTERM, SIGINT, SIGHUP and SIGQUIT are swallowed from the start; they
// get their previous handling back when it returns, unless r.KeepSignals.
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
	if r.Client.Logf == nil {
		r.Client.Logf = logf
	}
	var (
		said      atomic.Bool
		termMu    sync.Mutex
		termSig   string // the kubelet's first signal, to report once connected
		jobRunner *process.Runner
		sess      *Session
		status    = ExitJoinFailed
		copies    sync.WaitGroup
		outR      *os.File
		errR      *os.File
		cancel    = make(chan string, 1)
		finished  = make(chan struct{})
	)
	defer close(finished)
	defer func() {
		if sess != nil {
			sess.Close()
		}
	}()
	// start connects, waits for our turn and starts the job, its output
	// teed to our own stdout/stderr (kubectl logs of this container) and
	// to the coordinator.
	start := func() (supervise.Job, error) {
		resident.Trim()
		var err error
		joined, err := Join(ctx, r.Client)
		termMu.Lock()
		sess = joined
		if sess != nil && termSig != "" {
			_ = sess.ReportTerminating(termSig)
		}
		termMu.Unlock()
		if errors.Is(err, ErrFinished) {
			logf("skipped: the coordinator has already finished")
			status = ExitSkipped
			return nil, errSkipped
		}
		if err != nil {
			return nil, err
		}
		turn, err := sess.WaitTurn(ctx)
		if err != nil {
			return nil, err
		}
		if !turn {
			logf("skipped: %s", sess.Reason())
			status = ExitSkipped
			return nil, errSkipped
		}
		var outW, errW *os.File
		if outR, outW, err = os.Pipe(); err != nil {
			return nil, reportFailure(sess, err)
		}
		if errR, errW, err = os.Pipe(); err != nil {
			outR.Close()
			outW.Close()
			outR = nil
			return nil, reportFailure(sess, err)
		}
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
		// Urgent: a job that ends on its own but leaves a busy tree
		// behind gets its cleanup at the raised priority, as the
		// timeline's steps (below).
		opts := process.Options{Args: r.Args, Env: jobEnviron(), Stdout: outW, Stderr: errW, Cgroup: r.Cgroup, Urgent: process.RaisePriority}
		// The job inherits oom_score_adj at the fork, so join raises its
		// own for the moment of the fork: every process of the job has the
		// score from its first instruction (written afterwards, a child
		// the job forked at once kept the old one, and a job gone by then
		// gave a spurious error).
		restore := raiseOOMScore(r.OOMScoreAdj, logf)
		runner, startErr := process.Start(opts)
		restore()
		if runner == nil {
			var se *process.StartError
			if !errors.As(startErr, &se) {
				outW.Close()
				errW.Close()
				return nil, reportFailure(sess, startErr)
			}
			runner = process.Failed(opts, startErr)
		}
		outW.Close()
		errW.Close()
		jobRunner = runner
		return runner.Job(5 * time.Second), startErr
	}
	// The job's receipt goes to the coordinator with the exit report.
	rcpt := engine.NewReceipt(r.Profile)
	res, err := supervise.Run(ctx, supervise.Spec{
		Profile: r.Profile,
		Signals: supervise.Plan{
			Swallow: joinSwallowed,
			// The kubelet's signal is not acted on here (the job is
			// signalled once, by its timeline) but reported: the
			// coordinator cancels on the first report or its own SIGTERM.
			// Only SIGTERM is the kubelet's stop signal (graceful validate
			// --pod flags a lifecycle.stopSignal other than SIGTERM).
			OnSwallow: func(name string) {
				if !said.Swap(true) {
					logf("ignoring %s (and any further SIGTERM, SIGINT, SIGHUP, SIGQUIT): the job is stopped by its own timeline when the coordinator says interrupt", name)
				}
				if name != "SIGTERM" {
					return
				}
				termMu.Lock()
				if termSig != "" {
					termMu.Unlock()
					return
				}
				termSig = name
				if sess != nil {
					_ = sess.ReportTerminating(name)
				}
				termMu.Unlock()
			},
			Forward: joinForwarded,
			// A fault signal sent with kill is logged and ignored, as
			// under run, instead of the Go runtime's dump and exit 2.
			Deliver: supervise.FaultSignals(),
		},
		Sinks:      append(append([]engine.Sink(nil), r.Sinks...), rcpt),
		Cancel:     cancel,
		KeepCaught: r.KeepSignals,
		Logf:       logf,
		Start:      start,
		// The local engine is cancelled by the coordinator's interrupt,
		// or by the coordinator's disappearance.
		// As in graceful run: a job that lives on leaves join mostly
		// waiting, and the pages start-up and the handshake touched go
		// back; the local timeline is raised to be on time under load
		// once its steps are near.
		Settle: func() {
			resident.Trim()
			go retrim(finished)
		},
		Urgent: process.RaisePriority,
		Started: func(supervise.Job, *engine.Engine) {
			go func() {
				select {
				case <-sess.Interrupted():
					cancel <- sess.Reason()
				case <-sess.Gone():
					logf("coordinator gone (%s): cancelling the job", sess.Reason())
					cancel <- engine.CauseCoordinatorLost
				case <-finished:
				}
			}()
		},
	})
	if errors.Is(err, errSkipped) {
		return ExitSkipped, nil
	}
	if err != nil {
		return status, err
	}
	// The output is complete once every writer of the pipes is gone;
	// Close has killed what was left, so this is short.
	waitCopies(&copies, 2*time.Second, outR, errR)

	// Report and wait for the acknowledgement.
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
	var escaped []engine.ReceiptEscape
	if jobRunner != nil {
		for _, e := range jobRunner.Escaped() {
			escaped = append(escaped, engine.ReceiptEscape{PID: e.PID, Command: e.Command, How: e.How})
		}
	}
	if b, err := json.Marshal(rcpt.Doc(res, 0, escaped)); err == nil {
		sess.SetReceipt(b)
	}
	ackCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if err := sess.ReportExit(ackCtx, exit); err != nil {
		logf("%v", err)
	}
	return res.Status, nil
}

// retrimEvery is how often a join whose job lives on gives back the pages
// of its executable again.
const retrimEvery = 30 * time.Second

// retrim trims every retrimEvery until done is closed. A waiting join
// touches the same few pages every liveness interval (the ping path), and
// now and then pages it then leaves alone: the runtime's function tables,
// read when a goroutine is preempted by signal (when join's thread waited
// for a core, as it does beside a busy job), and the collector's, every two
// minutes. Each costs 64 KiB (fault-around, see internal/resident), and
// they added up: join's resident set grew by about 0.5 MiB over its first
// minutes on a loaded machine. Trimmed again, it returns to the ping
// path's pages within one interval. A trim costs well under a millisecond.
func retrim(done <-chan struct{}) {
	t := time.NewTicker(retrimEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			resident.Trim()
		case <-done:
			return
		}
	}
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

// raiseOOMScore sets this process's oom_score_adj to adj (0 means 1000;
// negative: leave it) and returns the function that puts the old value
// back.
func raiseOOMScore(adj int, logf func(string, ...any)) func() {
	if adj < 0 {
		return func() {}
	}
	if adj == 0 {
		adj = 1000
	}
	const file = "/proc/self/oom_score_adj"
	old, err := os.ReadFile(file)
	if err != nil {
		logf("could not raise the job's oom_score_adj: %v", err)
		return func() {}
	}
	if err := os.WriteFile(file, []byte(strconv.Itoa(adj)), 0); err != nil {
		logf("could not raise the job's oom_score_adj: %v", err)
		return func() {}
	}
	return func() {
		if err := os.WriteFile(file, old, 0); err != nil {
			logf("could not lower join's oom_score_adj back to %s: %v", strings.TrimSpace(string(old)), err)
		}
	}
}
