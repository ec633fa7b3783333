//go:build linux

package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/graceful-sh/graceful/engine"
)

// Options describe the job to start.
type Options struct {
	// Args is the command and its arguments. Args[0] is looked up in PATH
	// when it has no slash, like a shell does.
	Args []string
	// Env is the job's environment; nil means this process's.
	Env []string
	// Dir is the job's working directory; empty means this process's.
	Dir string
	// Stdin, Stdout and Stderr are handed to the job as they are (the
	// file descriptors themselves: nothing is copied or buffered). Nil
	// means this process's own.
	Stdin, Stdout, Stderr *os.File
	// Cgroup chooses cgroup or subreaper tracking of the tree.
	Cgroup CgroupMode
	// Foreground gives the job the terminal on Stdin (it becomes the
	// foreground process group, so it can read the terminal and gets
	// Ctrl-C from the kernel directly instead of through the policy).
	// Without it an interactive job stays in the background; see
	// docs/process.md. Ignored when Stdin is not this process's
	// controlling terminal in the foreground.
	Foreground bool
	// NoSubreaper keeps this process from becoming a child subreaper.
	// By default Start makes it one (PR_SET_CHILD_SUBREAPER, for the
	// rest of the process's life): descendants that leave the job's
	// group and lose their parent are then reparented here, where the
	// tree scope and Close reach them and the orphan reaper (ReapOrphans)
	// reaps them. Without it, in sweep mode (no cgroup), such escaped
	// descendants are out of reach; with a cgroup leaf the tree is still
	// tracked, but their zombies are reaped by init.
	NoSubreaper bool
	// OnStop, when set, is called each time the leader is stopped by a
	// signal (SIGTTIN when it reads the terminal from the background,
	// SIGTSTP, SIGSTOP). It runs on the runner's own goroutine, possibly
	// before Start has returned: it must not use the Runner until then.
	OnStop func(syscall.Signal)
	// Ready, when set, holds the job's fork until it is closed: a
	// caller that catches its signals on another goroutine
	// (supervise.CatchAhead) makes everything else ready meanwhile.
	Ready <-chan struct{}
	// Urgent, when set, is called by Close, before it kills them, when
	// the job's processes are still running at Close: a job that ended
	// on its own but left a tree behind (nothing was cancelled, so
	// nothing raised the caller's priority) and that tree keeps every
	// core busy. run and join raise their priority there
	// (RaisePriority), as they do before the timeline's steps: at nice 0
	// beside a CPU-bound tree, the cleanup's walks of /proc could take
	// longer than its deadline. It may be called after the caller's own
	// raise and must then be harmless. A clean end does not call it.
	Urgent func()
}

// StartError is a job that could not be started. Code is the shell's
// status for it: 127 command not found, 126 not executable, 125 anything
// else.
type StartError struct {
	Name string
	Code int
	Err  error
}

func (e *StartError) Error() string {
	switch e.Code {
	case engine.ExitNotFound:
		return e.Name + ": command not found"
	case engine.ExitNotExecutable:
		return e.Name + ": not executable: " + errText(e.Err)
	}
	// Not the command's fault (the cgroup, a fork failure): the whole
	// error, so it names what failed.
	var en syscall.Errno
	if errors.As(e.Err, &en) && e.Err == error(en) {
		return e.Name + ": cannot start: " + errText(e.Err)
	}
	return e.Name + ": cannot start: " + e.Err.Error()
}

func (e *StartError) Unwrap() error { return e.Err }

func errText(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		s := en.Error()
		return strings.ToLower(s[:1]) + s[1:]
	}
	return err.Error()
}

// Runner is a started job. It implements engine.Target. Close must be
// called when the run is over: it kills whatever is left of the job.
type Runner struct {
	opts   Options
	self   int
	leader *proc    // nil when the job never started
	cg     *cgroup  // nil in subreaper mode
	noCg   error    // why auto mode has no leaf (NoCgroup)
	fg     *os.File // terminal whose foreground group is handed to the job now
	tty    *os.File // the terminal handed over at start (Foreground), kept
	ownPG  int      // this process's group, to restore the foreground
	exit   chan engine.Exit
	once   sync.Once
	closed sync.Once
	mu     sync.Mutex // guards fg
	// killing is set once the whole tree is being SIGKILLed: a sweep of
	// another signal still running (the engine runs effects concurrently)
	// stops then instead of walking a tree that is being killed.
	killing  atomic.Bool
	esc      escapes      // processes seen outside the job's group (Escaped)
	guardian atomic.Int64 // the guardian's pid (StartGuardian), not the job's
	gmu      sync.Mutex   // guards guardFD and closing
	guardFD  int          // a pidfd on the guardian, -1 for none
	closing  bool         // Close has begun: no guardian is started
	// swept is closed once the look for stale leaves beside the job's
	// (removeStaleBeside), begun as the job starts, is done; nil when
	// there is no leaf.
	swept chan struct{}
}

var _ engine.Target = (*Runner)(nil)

// closeSweeps counts the Closes that swept /proc for what the job left
// (a test reads it: a clean end needs no sweep).
var closeSweeps atomic.Int64

// Start starts the job. It returns a nil Runner and an error when it
// cannot: a *StartError when the command cannot be started (Code 127 not
// found, 126 not executable, 125 anything else), another error for an
// unusable Options. To put a job that could not start through the engine
// all the same (its finalisation still runs), use Failed.
func Start(opts Options) (*Runner, error) {
	r, err := start(opts)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Failed returns a Runner for a job that could not start: its Done reports
// err at once (Exit.Err set, Exit.Code the StartError's code, 125 for any
// other error), Signal says ErrGone, and Exec still runs command steps and
// finalisation with opts' environment, directory and output.
func Failed(opts Options, err error) *Runner {
	r := newRunner(opts)
	code := engine.ExitInternal
	var se *StartError
	if errors.As(err, &se) {
		code = se.Code
	}
	r.deliver(engine.Exit{Code: code, Err: err})
	return r
}

func newRunner(opts Options) *Runner {
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Env == nil {
		opts.Env = os.Environ()
	}
	return &Runner{opts: opts, self: os.Getpid(), exit: make(chan engine.Exit, 1), ownPG: syscall.Getpgrp(), guardFD: -1}
}

func start(opts Options) (*Runner, error) {
	if len(opts.Args) == 0 {
		return nil, errors.New("process: no command")
	}
	r := newRunner(opts)
	opts = r.opts
	fail := func(code int, err error) (*Runner, error) {
		return nil, &StartError{Name: opts.Args[0], Code: code, Err: err}
	}

	path, err := lookPath(opts.Args[0])
	if err != nil {
		return fail(lookCode(err), err)
	}

	// 1. Where the tree lives: a cgroup leaf, or this process as the
	// subreaper of everything the job leaves behind.
	if opts.Cgroup != CgroupOff {
		cg, err := newCgroup()
		switch {
		case err == nil:
			r.cg = cg
		case opts.Cgroup == CgroupOn:
			return fail(engine.ExitInternal, fmt.Errorf("cgroup: %w", err))
		default:
			r.noCg = err
		}
	}
	// Without a cgroup the tree is found in /proc: it must be ours.
	if r.cg == nil && !procIsOurs() {
		return fail(engine.ExitInternal, errForeignProc())
	}
	// A subreaper unless told otherwise: orphans then stay reachable and
	// reapable in both modes.
	if !opts.NoSubreaper {
		if err := BecomeSubreaper(); err != nil && r.cg == nil {
			return fail(engine.ExitInternal, fmt.Errorf("subreaper: %w", err))
		}
	}

	// Threads in hand for when the job has used up a pids limit
	// (nproc.go): they must exist before the job can fork.
	threadsReserved()
	if opts.Ready != nil {
		<-opts.Ready
	}

	// 2. The job's own process group, its stdio as is, SIGKILL if we die.
	sys := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if r.cg != nil {
		sys.UseCgroupFD = true
		sys.CgroupFD = r.cg.fd
	}
	if opts.Foreground && isForeground(opts.Stdin) {
		sys.Foreground = true
		sys.Ctty = 0 // the child's fd 0 is opts.Stdin
		r.fg = opts.Stdin
		r.tty = opts.Stdin
	}
	attr := &syscall.ProcAttr{
		Dir:   opts.Dir,
		Env:   opts.Env,
		Files: []uintptr{opts.Stdin.Fd(), opts.Stdout.Fd(), opts.Stderr.Fd()},
		Sys:   sys,
	}
	// The leader's end is reported from its waiting goroutine, once reaped.
	h := hooks{onStop: opts.OnStop, onExit: func(ws syscall.WaitStatus) {
		r.restoreForeground()
		r.deliver(exitOf(ws))
	}}
	p, err := startProc(path, opts.Args, attr, h)
	if err != nil && r.cg != nil && opts.Cgroup == CgroupAuto {
		// CLONE_INTO_CGROUP refused (old kernel, delegation): sweep mode.
		// Its errors look like execve's (EACCES without write access to
		// the common ancestor's cgroup.procs, ENOENT outside the cgroup
		// namespace), so any failure is tried again without the leaf; a
		// real exec failure fails the same way again (nothing ran).
		_ = r.cg.remove()
		r.cg = nil
		r.noCg = fmt.Errorf("starting the job in the leaf: %w", err)
		sys.UseCgroupFD = false
		p, err = startProc(path, opts.Args, attr, h)
	}
	if err != nil {
		// The child hands itself the terminal before execve, so a
		// failed exec leaves a dead group in the foreground: take it
		// back.
		r.restoreForeground()
		r.tty = nil
		if r.cg != nil {
			_ = r.cg.remove()
			r.cg = nil
		}
		return fail(execCode(err), err)
	}
	r.leader = p
	if r.cg != nil {
		// Leaves a SIGKILLed graceful left beside ours are removed while
		// the job runs, when graceful has nothing else to do, rather
		// than while it exits; Close waits for it.
		r.swept = make(chan struct{})
		go func(dir string) {
			defer close(r.swept)
			removeStaleBeside(dir)
		}(r.cg.dir)
	}
	return r, nil
}

func (r *Runner) deliver(e engine.Exit) {
	r.once.Do(func() { r.exit <- e })
}

func exitOf(ws syscall.WaitStatus) engine.Exit {
	if ws.Signaled() {
		s := ws.Signal()
		return engine.Exit{Signal: SignalName(s), SignalNumber: int(s)}
	}
	return engine.Exit{Code: ws.ExitStatus()}
}

func lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		st, err := os.Stat(name)
		if err != nil {
			return "", err
		}
		if st.IsDir() {
			return "", syscall.EISDIR
		}
		return name, nil
	}
	p, err := exec.LookPath(name)
	if errors.Is(err, exec.ErrDot) {
		return p, nil
	}
	return p, err
}

func lookCode(err error) int {
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, exec.ErrNotFound) {
		return engine.ExitNotFound
	}
	return engine.ExitNotExecutable
}

// isExecErr reports errors that come from execve in the child, as opposed
// to the fork or the cgroup placement.
func isExecErr(err error) bool {
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.EACCES),
		errors.Is(err, syscall.ENOEXEC), errors.Is(err, syscall.EISDIR),
		errors.Is(err, syscall.ETXTBSY), errors.Is(err, syscall.ENOTDIR),
		errors.Is(err, syscall.ELOOP), errors.Is(err, syscall.E2BIG):
		return true
	}
	return false
}

func execCode(err error) int {
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENOTDIR):
		return engine.ExitNotFound
	case isExecErr(err), errors.Is(err, syscall.EPERM):
		return engine.ExitNotExecutable
	}
	return engine.ExitInternal
}

// Pid returns the leader's pid, 0 when the job never started.
func (r *Runner) Pid() int {
	if r.leader == nil {
		return 0
	}
	return r.leader.pid
}

// Cgroup returns the job's cgroup directory, empty in subreaper mode.
func (r *Runner) Cgroup() string {
	if r.cg == nil {
		return ""
	}
	return r.cg.dir
}

// NoCgroup says why a job started in CgroupAuto mode has no cgroup leaf
// (the tree is then tracked by the /proc sweep, and the processes that
// leave the job's process group survive a SIGKILL of this process: there
// is no guardian). It is nil when the job has a leaf, or when CgroupOff
// asked for none.
func (r *Runner) NoCgroup() error { return r.noCg }

// Signal sends the named signal to scope: the leader, its process group
// (only while the leader is unreaped, see proc), or the tree (the group
// plus every descendant that left it).
func (r *Runner) Signal(name string, scope engine.Scope) error {
	sig, err := SignalNumber(name)
	if err != nil {
		return err
	}
	if r.leader == nil {
		return engine.ErrGone
	}
	err = r.signal(sig, scope)
	if err == nil && needsCont(sig) {
		// A stopped process acts on a signal only once continued (as
		// systemd does, follow with SIGCONT).
		_ = r.signal(syscall.SIGCONT, scope)
	}
	if priorityRaised.Load() {
		// Threads started since the raise, for the next steps; off
		// this goroutine, which may be the timeline's.
		go keepRaised()
	}
	return err
}

// QuickSignal reports that a signal to the leader or the group is a
// kill(2) or two that never waits (engine.QuickSignaller); the tree's is a
// walk of /proc or of the cgroup, which may take long.
func (r *Runner) QuickSignal(scope engine.Scope) bool {
	return scope == engine.ScopeLeader || scope == engine.ScopeGroup
}

// SignalLead sends a tree's SIGKILL to the job's process group at once
// (engine.LeadSignaller): one kill(2) from the engine's goroutine, so that
// most of the job dies before the tree's kill (the cgroup's, or the
// sweep's), which the engine runs on a goroutine of its own and which
// sends the group SIGKILL again, has started. Any other signal or scope
// has no lead.
func (r *Runner) SignalLead(name string, scope engine.Scope) bool {
	if name != "SIGKILL" || scope != engine.ScopeTree || r.leader == nil {
		return false
	}
	return r.killGroup() == nil
}

// killGroup SIGKILLs the job's process group, the first part of a tree's
// SIGKILL: a slower sweep of another signal may stop from now on.
func (r *Runner) killGroup() error {
	r.killing.Store(true)
	return r.leader.signalGroup(syscall.SIGKILL)
}

// RehearseSignal takes the path of a signal to scope with signal 0, which
// the kernel checks and does not send (engine.Rehearser; the engine asks
// it only for the scopes QuickSignal calls quick).
func (r *Runner) RehearseSignal(scope engine.Scope) error {
	if r.leader == nil {
		return nil
	}
	return r.signal(0, scope)
}

// Forward passes a forwarded signal to the job's process group, alone:
// unlike Signal, never followed by SIGCONT (see engine.Forwarder).
func (r *Runner) Forward(name string) error {
	sig, err := SignalNumber(name)
	if err != nil {
		return err
	}
	if r.leader == nil {
		return engine.ErrGone
	}
	return r.signal(sig, engine.ScopeGroup)
}

func (r *Runner) signal(sig syscall.Signal, scope engine.Scope) error {
	switch scope {
	case engine.ScopeLeader:
		return gone(r.leader.signalLeader(sig))
	case engine.ScopeGroup:
		return gone(r.leader.signalGroup(sig))
	case engine.ScopeTree:
		return r.signalTree(sig)
	}
	return fmt.Errorf("unknown scope %q", scope)
}

// needsCont reports whether sig is one of the stop-the-job signals that a
// stopped process would keep pending until continued (systemd follows its
// KillSignal with SIGCONT for the same reason). Other signals (SIGWINCH,
// SIGUSR1, forwarded as they are) get no SIGCONT.
func needsCont(sig syscall.Signal) bool {
	switch sig {
	case syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT:
		return true
	}
	return false
}

func gone(err error) error {
	if errors.Is(err, errReaped) || errors.Is(err, syscall.ESRCH) {
		return engine.ErrGone
	}
	return err
}

// signalTree signals every process of the job: the group and whatever left
// it.
func (r *Runner) signalTree(sig syscall.Signal) error {
	// SIGKILL goes to the group first, the quickest way to stop most of
	// the job; any other signal goes to each process once, through the
	// cgroup or the sweep (both include the group), never twice.
	groupErr := engine.ErrGone
	if sig == syscall.SIGKILL {
		groupErr = r.killGroup()
	}
	var n int
	if r.cg != nil {
		pids, _ := r.cg.procs()
		r.noteTree(pids, sig == syscall.SIGKILL)
		var err error
		if n, err = r.cg.signal(sig, pids); err != nil {
			return err
		}
	} else if sig == syscall.SIGKILL {
		var fds []int
		n, fds = sweepKill(r.self, r.leader, r.noteEscape, time.Time{})
		closeFds(fds)
	} else {
		n, _ = sweepSignal(r.self, r.leader, sig, false, r.killing.Load, r.noteEscape, time.Time{})
	}
	if n == 0 && groupErr != nil {
		return engine.ErrGone
	}
	return nil
}

// Notify is not supported: a local process has no message channel.
func (r *Runner) Notify(string) error { return engine.ErrNotSupported }

// Abandon SIGKILLs the whole tree and makes Done report within a short
// grace: the leader's real end if it is reaped by then, else an abandoned
// Exit.
func (r *Runner) Abandon() error {
	if r.leader == nil {
		return nil
	}
	_ = r.signalTree(syscall.SIGKILL)
	go func() {
		select {
		case <-r.leader.done:
		case <-time.After(200 * time.Millisecond):
			r.deliver(engine.Exit{Abandoned: true})
		}
	}()
	return nil
}

// Done delivers the job's end exactly once.
func (r *Runner) Done() <-chan engine.Exit { return r.exit }

// Exec runs argv (a command step or finalisation) in a process group of its
// own with env added to the job's base environment, stdin from /dev/null
// and the job's stdout and stderr. When ctx is done the command's group is
// SIGKILLed. What the command leaves in its group is killed when it exits.
func (r *Runner) Exec(ctx context.Context, argv []string, env []string) error {
	if len(argv) == 0 {
		return errors.New("exec: empty command")
	}
	path, err := lookPath(argv[0])
	if err != nil {
		return &StartError{Name: argv[0], Code: lookCode(err), Err: err}
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer null.Close()
	attr := &syscall.ProcAttr{
		Dir:   r.opts.Dir,
		Env:   append(append([]string(nil), r.opts.Env...), env...),
		Files: []uintptr{null.Fd(), r.opts.Stdout.Fd(), r.opts.Stderr.Fd()},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	}
	p, err := startProc(path, argv, attr, hooks{killGroupOnExit: true})
	if err != nil {
		return &StartError{Name: argv[0], Code: execCode(err), Err: err}
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		// The group, and the leader itself through its pidfd: a
		// command may have moved to another group of the session
		// (setpgid), where kill(-pid) misses it. What it forked there
		// is adopted by this process once it dies, and Close sweeps it.
		_ = p.signalGroup(syscall.SIGKILL)
		_ = p.signalLeader(syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("%s: cut off: %w", argv[0], ctx.Err())
	}
	if ws := p.status; ws.Signaled() {
		return fmt.Errorf("%s: killed by %s", argv[0], SignalName(ws.Signal()))
	} else if ws.ExitStatus() != 0 {
		return fmt.Errorf("%s: exit status %d", argv[0], ws.ExitStatus())
	}
	return nil
}

// Close kills whatever is left of the job (SIGKILL to the tree), waits up
// to timeout for it to be gone and for the leader to be reaped, removes the
// cgroup and gives the terminal back. It returns an error naming what
// could not be cleaned up. Close is idempotent.
func (r *Runner) Close(timeout time.Duration) error {
	var err error
	r.closed.Do(func() { err = r.close(timeout) })
	return err
}

func (r *Runner) close(timeout time.Duration) error {
	defer r.restoreForeground()
	r.killing.Store(true)
	deadline := time.Now().Add(timeout)
	var errs []error
	removed := false
	urgent := func() {} // Options.Urgent, at most once
	if r.opts.Urgent != nil {
		urgent = sync.OnceFunc(r.opts.Urgent)
	}
	if r.leader != nil && r.cg != nil {
		_ = r.leader.signalGroup(syscall.SIGKILL)
		// An empty leaf stays empty: only its own processes could
		// fork into it. A job that is all gone, the usual end, costs
		// one rmdir, which removes the leaf; the group's members are
		// no escapes.
		removed = r.cg.removeIfEmpty()
		if !removed && r.cg.populated() {
			urgent()
			pids, _ := r.cg.procs()
			r.noteTree(pids, true) // the sweep below notes the rest as it goes
			if !r.cg.killAll(time.Until(deadline)) {
				errs = append(errs, fmt.Errorf("cgroup %s still populated", r.cg.dir))
			}
		}
	}
	// The guardian's work is done once the leaf is: end it here, so that
	// a clean end leaves no child to sweep for.
	r.endGuardian(deadline)
	// The sweep: the job's tree in sweep mode; in both modes the orphans
	// this process adopted, which is also where daemons of finalisation
	// and command steps end up. Kill, wait on the pidfds of the killed,
	// and repeat until a sweep finds nothing alive (a process forked just
	// before its parent died shows up in the next one). A process with
	// no child at all has nothing to sweep (see noChildren).
	leader := r.leader
	if r.cg != nil {
		leader = nil // its tree is the cgroup's, killed above
	}
	// The sweep reads /proc: never one that is not ours (it would signal
	// other processes, or find nothing and claim success). The usual end,
	// no child left, asks neither /proc nor anything else.
	switch {
	case noChildren():
	case !procIsOurs():
		errs = append(errs, errors.New("escaped processes not swept: "+errForeignProc().Error()))
	default:
		urgent()
		closeSweeps.Add(1)
		for {
			n, fds := sweepKill(r.self, leader, r.noteEscape, deadline)
			if n == 0 {
				break
			}
			waitPidfds(fds, deadline)
			if time.Now().After(deadline) {
				errs = append(errs, fmt.Errorf("%d processes of the job survived", n))
				break
			}
			if noChildren() {
				break
			}
		}
	}
	if r.leader != nil && !r.leader.reapedBy(deadline) {
		errs = append(errs, fmt.Errorf("leader %d not reaped", r.leader.pid))
	}
	// What the sweep and the leaf's kill ended are zombies of this
	// process now (it adopted them); the reaper may not have come to
	// them yet.
	reapAdopted()
	if r.cg != nil && !removed && len(errs) == 0 {
		if err := r.cg.remove(); err != nil {
			errs = append(errs, fmt.Errorf("remove cgroup: %w", err))
		}
	}
	if r.swept != nil {
		closedBy(r.swept, deadline)
	}
	return errors.Join(errs...)
}
