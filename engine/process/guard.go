//go:build linux

package process

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// GuardArg is the first argument of the guardian process. A program that
// uses StartGuardian calls Guard from its main when os.Args[1] is GuardArg
// (graceful's main does).
const GuardArg = "__graceful-guard"

// guardEnv is added to the guardian's environment, after (so in place of)
// any GOMAXPROCS graceful inherited.
const guardEnv = "GOMAXPROCS=1"

// StartGuardian starts a guardian for the job's cgroup leaf: this
// executable again, in a session of its own, holding a pidfd on this
// process. If this process dies without cleaning up (SIGKILLed by a CI
// agent at its own grace period, say), the guardian kills the leaf, so the
// job's tree dies with its supervisor. Close ends it through a pidfd taken
// as it is cloned, once the leaf is dealt with, and reaps it: a clean end
// then leaves this process no child, and no /proc to sweep. A guardian is
// never started once Close has begun.
//
// Only in cgroup mode (in sweep mode the tree cannot be found once this
// process, its subreaper, is gone) and not as PID 1 (the namespace dies
// with it). It costs a process of this executable: see
// docs/performance.md.
func (r *Runner) StartGuardian() error {
	if r.cg == nil || r.leader == nil || os.Getpid() == 1 {
		return nil
	}
	r.gmu.Lock()
	defer r.gmu.Unlock()
	if r.closing {
		return nil
	}
	pidfd := -1
	cmd := exec.Command("/proc/self/exe", GuardArg, strconv.Itoa(os.Getpid()), r.cg.dir, r.cg.rel)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, PidFD: &pidfd}
	// One P: the guardian only waits, and the Go runtime then starts
	// three threads instead of four, each a task of the pids limit the
	// job shares with graceful (and about 100 KiB less resident).
	cmd.Env = append(os.Environ(), guardEnv)
	if err := cmd.Start(); err != nil {
		return err
	}
	r.guardian.Store(int64(cmd.Process.Pid))
	r.guardFD = pidfd // -1 where the kernel has no pidfd: the sweep ends it
	// Not waited for here: Close reaps it, or the orphan reaper if it dies
	// first (or init, once this process is gone).
	return cmd.Process.Release()
}

// endGuardian SIGKILLs the guardian, if there is one, and waits until it
// is reaped (here, or by the orphan reaper) or the deadline passes. From
// then on no guardian is started.
func (r *Runner) endGuardian(deadline time.Time) {
	r.gmu.Lock()
	r.closing = true
	fd := r.guardFD
	r.guardFD = -1
	r.gmu.Unlock()
	if fd < 0 {
		return
	}
	defer unix.Close(fd)
	_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	if !pidfdsExited([]int{fd}, deadline) {
		return
	}
	// Exited: reap it, unless the orphan reaper did (ECHILD).
	for unix.Waitid(unix.P_PIDFD, fd, nil, unix.WEXITED|unix.WNOHANG, nil) == unix.EINTR {
	}
}

// Guard is the guardian's main: args are the supervisor's pid, the leaf's
// directory and its path as /proc/PID/cgroup shows it. It returns the
// guardian's exit status.
func Guard(args []string) int {
	if len(args) != 3 {
		return 2
	}
	pid, err := strconv.Atoi(args[0])
	if err != nil || pid <= 1 {
		return 2
	}
	// Only the supervisor's death ends the guardian before the
	// supervisor does: a `pkill -f graceful` of the job's (SIGTERM), a
	// hang-up or Ctrl-C of a terminal it no longer has, would otherwise
	// leave the job's tree to outlive a SIGKILL of the supervisor. It
	// exits anyway once the supervisor is gone. (A SIGKILL of the
	// guardian itself cannot be refused: docs/process.md.)
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT,
		syscall.SIGTSTP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM)
	c := &cgroup{dir: args[1], rel: args[2], fd: -1}
	fd, err := unix.PidfdOpen(pid, 0)
	if err == nil {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			_, err := unix.Poll(fds, -1)
			if !errors.Is(err, unix.EINTR) {
				break
			}
		}
	}
	// The supervisor is gone. A leaf it removed is gone too; one that is
	// still populated was left behind: kill it.
	if _, err := os.Stat(c.dir); err != nil || !c.populated() {
		return 0
	}
	c.killAll(5 * time.Second)
	_ = removeTree(c.dir)
	return 0
}
