//go:build linux

package process

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// GuardArg is the first argument of the guardian process. A program that
// uses StartGuardian calls Guard from its main when os.Args[1] is GuardArg
// (graceful's main does).
const GuardArg = "__graceful-guard"

// StartGuardian starts a guardian for the job's cgroup leaf: this
// executable again, in a session of its own, holding a pidfd on this
// process. If this process dies without cleaning up (SIGKILLed by a CI
// agent at its own grace period, say), the guardian kills the leaf, so the
// job's tree dies with its supervisor. A Close that removed the leaf
// leaves the guardian nothing to do; Close's sweep also ends it.
//
// Only in cgroup mode (in sweep mode the tree cannot be found once this
// process, its subreaper, is gone) and not as PID 1 (the namespace dies
// with it). It costs a process of this executable: see
// docs/performance.md.
func (r *Runner) StartGuardian() error {
	if r.cg == nil || r.leader == nil || os.Getpid() == 1 {
		return nil
	}
	cmd := exec.Command("/proc/self/exe", GuardArg, strconv.Itoa(os.Getpid()), r.cg.dir, r.cg.rel)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	r.guardian.Store(int64(cmd.Process.Pid))
	// Not waited for: the orphan reaper (or init, once this process is
	// gone) reaps it.
	return cmd.Process.Release()
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
