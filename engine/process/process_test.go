//go:build linux

package process

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/internal/proctest"
	"golang.org/x/sys/unix"
)

// The test binary doubles as a job: with GRACEFUL_PROCESS_HELPER set it
// runs the named helper instead of the tests (the os/exec pattern).
func TestMain(m *testing.M) {
	if mode := os.Getenv("GRACEFUL_PROCESS_HELPER"); mode != "" {
		os.Exit(helper(mode, os.Args[1:]))
	}
	if len(os.Args) > 1 && os.Args[1] == GuardArg { // StartGuardian's
		os.Exit(Guard(os.Args[2:]))
	}
	ReapOrphans()
	os.Exit(m.Run())
}

// combinedOutput is cmd.CombinedOutput for this test binary, whose orphan
// reaper (TestMain) would take cmd's process for an orphan and steal its
// exit status: its pid is registered as one of this package's children
// while it runs (startOwned, waitOwned).
func combinedOutput(cmd *exec.Cmd) ([]byte, error) {
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	if err := startOwned(cmd); err != nil {
		return nil, err
	}
	err := waitOwned(cmd)
	return b.Bytes(), err
}

// startOwned starts cmd with its pid registered as this package's child.
func startOwned(cmd *exec.Cmd) error {
	children.Lock()
	defer children.Unlock()
	err := cmd.Start()
	if err == nil {
		children.pids[cmd.Process.Pid] = true
	}
	return err
}

// waitOwned waits for a command startOwned started.
func waitOwned(cmd *exec.Cmd) error {
	err := cmd.Wait()
	children.Lock()
	delete(children.pids, cmd.Process.Pid)
	children.Unlock()
	return err
}

func helper(mode string, args []string) int {
	switch mode {
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		for {
			time.Sleep(time.Hour)
		}
	case "term-exit":
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM)
		fmt.Println("ready")
		<-ch
		fmt.Println("bye")
		return 3
	case "env":
		fmt.Println(os.Getenv(args[0]))
		return 0
	case "pids-limited":
		fmt.Println(pidsLimited())
		return 0
	case "raise-priority":
		// RaisePriority, then each thread's scheduling and a child's.
		fmt.Println("raised", raisePriority())
		// Threads the runtime starts afterwards (held here, as a
		// command's start holds one) come at nice 0: a signal step
		// raises them, or the look every threadWatchEvery.
		release := make(chan struct{})
		var held sync.WaitGroup
		for range 3 {
			held.Add(1)
			go func() {
				runtime.LockOSThread()
				held.Done()
				<-release
			}()
		}
		held.Wait()
		r, err := Start(Options{Args: []string{"sleep", "10"}, Cgroup: CgroupOff})
		if err != nil {
			fmt.Println("start:", err)
			return 1
		}
		if len(args) > 0 && args[0] == "exec" {
			// No signal (Close kills without one): a command's start
			// raises them (the look every threadWatchEvery).
			if err := r.Exec(context.Background(), []string{"/bin/true"}, nil); err != nil {
				fmt.Println("exec:", err)
				return 1
			}
		} else {
			_ = r.Signal("SIGKILL", engine.ScopeGroup)
			<-r.Done()
		}
		_ = r.Close(5 * time.Second)
		// keepRaised runs on a goroutine of its own.
		for end := time.Now().Add(2 * time.Second); !allRaised() && time.Now().Before(end); {
			time.Sleep(time.Millisecond)
		}
		tasks, _ := os.ReadDir("/proc/self/task")
		for _, t := range tasks {
			tid, _ := strconv.Atoi(t.Name())
			if a, err := unix.SchedGetAttr(tid, 0); err == nil {
				fmt.Println("thread", a.Nice, a.Runtime)
			}
		}
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "GRACEFUL_PROCESS_HELPER=sched-self")
		out, err := combinedOutput(cmd)
		if err != nil {
			fmt.Println("child:", err)
			return 1
		}
		fmt.Print(string(out))
		return 0
	case "sched-self":
		a, err := unix.SchedGetAttr(0, 0)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		fmt.Println("child", a.Nice, a.Runtime)
		return 0
	case "cgroup-of-job", "cgroup-on-job":
		// Run a job that prints its own cgroup, as /proc shows it here.
		cg := CgroupAuto
		if mode == "cgroup-on-job" {
			cg = CgroupOn
		}
		r, err := Start(Options{Args: []string{"/bin/sh", "-c", "grep ^0:: /proc/self/cgroup"}, Cgroup: cg})
		if err != nil {
			fmt.Println(err)
			return 1
		}
		<-r.Done()
		if err := r.Close(5 * time.Second); err != nil {
			fmt.Println(err)
			return 1
		}
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown helper", mode)
	return 2
}

// job describes a test job: a marker in its environment finds every
// process of it in /proc, however it escaped.
type job struct {
	t      *testing.T
	marker string
	r      *Runner
	out    *bufio.Reader
}

func startJob(t *testing.T, mode CgroupMode, args ...string) *job {
	t.Helper()
	return startJobEnv(t, mode, nil, args...)
}

func startJobEnv(t *testing.T, mode CgroupMode, env []string, args ...string) *job {
	t.Helper()
	return startJobOpts(t, Options{Args: args, Env: append(os.Environ(), env...), Cgroup: mode})
}

// startJobOpts is startJob with Options of the test's own; Env nil is this
// process's. The job gets a marker in its environment and a pipe as its
// Stdout.
func startJobOpts(t *testing.T, opts Options) *job {
	t.Helper()
	marker := fmt.Sprintf("GRACEFUL_TEST_MARKER=%s-%d", strings.ReplaceAll(t.Name(), "/", "_"), time.Now().UnixNano())
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if opts.Env == nil {
		opts.Env = os.Environ()
	}
	opts.Env = append(opts.Env, marker)
	opts.Stdout = pw
	r, err := Start(opts)
	pw.Close()
	if err != nil {
		pr.Close()
		t.Fatalf("Start: %v", err)
	}
	j := &job{t: t, marker: marker, r: r, out: bufio.NewReader(pr)}
	t.Cleanup(func() {
		if err := r.Close(5 * time.Second); err != nil {
			t.Errorf("Close: %v", err)
		}
		pr.Close()
		if left := proctest.LiveAfter(marker, 2*time.Second); len(left) > 0 {
			t.Errorf("processes left behind: %v", left)
		}
	})
	return j
}

// readPid reads a line of stdout that is a pid (a job's `echo $!`).
func (j *job) readPid() int {
	j.t.Helper()
	line, err := j.out.ReadString('\n')
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		j.t.Fatalf("a pid from the job: %q, %v", line, err)
	}
	return pid
}

// waitLines reads stdout until n lines equal to want have been seen.
func (j *job) waitLines(want string, n int) {
	j.t.Helper()
	done := make(chan error, 1)
	go func() {
		seen := 0
		for seen < n {
			line, err := j.out.ReadString('\n')
			if err != nil {
				done <- fmt.Errorf("after %d of %d %q lines: %w", seen, n, want, err)
				return
			}
			if strings.TrimSpace(line) == want {
				seen++
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			j.t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		j.t.Fatalf("timed out waiting for %d %q lines", n, want)
	}
}

func (j *job) exit() engine.Exit {
	j.t.Helper()
	select {
	case e := <-j.r.Done():
		return e
	case <-time.After(10 * time.Second):
		j.t.Fatal("job did not end")
	}
	return engine.Exit{}
}

var modes = []struct {
	name string
	mode CgroupMode
}{{"cgroup", CgroupOn}, {"sweep", CgroupOff}}

func skipWithoutCgroup(t *testing.T, mode CgroupMode) {
	if mode != CgroupOn {
		return
	}
	cg, err := newCgroup()
	if err != nil {
		t.Skipf("no cgroup v2 leaf on this machine: %v", err)
	}
	_ = cg.remove()
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   engine.Exit
	}{
		{"job exits 0", "exit 0", engine.Exit{}},
		{"job exits 42", "exit 42", engine.Exit{Code: 42}},
		{"job exits 255", "exit 255", engine.Exit{Code: 255}},
		{"job dies of SIGTERM", "kill -TERM $$", engine.Exit{Signal: "SIGTERM", SignalNumber: 15}},
		{"job dies of SIGKILL", "kill -KILL $$", engine.Exit{Signal: "SIGKILL", SignalNumber: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := startJob(t, CgroupAuto, "/bin/sh", "-c", tt.script)
			if diff := cmp.Diff(tt.want, j.exit()); diff != "" {
				t.Errorf("exit (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStartFailure(t *testing.T) {
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		arg  string
		code int
		msg  string
	}{
		{"command not in PATH", "graceful-no-such-command", 127, "graceful-no-such-command: command not found"},
		{"path does not exist", filepath.Join(dir, "missing"), 127, "command not found"},
		{"file not executable", noexec, 126, "not executable: permission denied"},
		{"path is a directory", dir, 126, "not executable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Start(Options{Args: []string{tt.arg}})
			var se *StartError
			if !errors.As(err, &se) {
				t.Fatalf("Start error = %v, want *StartError", err)
			}
			if r != nil {
				t.Fatalf("Start returned a Runner with its error")
			}
			r = Failed(Options{Args: []string{tt.arg}}, err)
			if se.Code != tt.code || !strings.Contains(se.Error(), tt.msg) {
				t.Errorf("got code %d %q, want %d containing %q", se.Code, se.Error(), tt.code, tt.msg)
			}
			e := <-r.Done()
			if e.Code != tt.code || e.Err == nil {
				t.Errorf("Done = %+v, want code %d with Err", e, tt.code)
			}
			if err := r.Signal("SIGTERM", engine.ScopeGroup); !errors.Is(err, engine.ErrGone) {
				t.Errorf("Signal after failed start = %v, want ErrGone", err)
			}
			if err := r.Close(time.Second); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestSignalAfterReapIsGone(t *testing.T) {
	j := startJob(t, CgroupAuto, "/bin/sh", "-c", "exit 0")
	j.exit()
	for _, s := range []engine.Scope{engine.ScopeLeader, engine.ScopeGroup} {
		if err := j.r.Signal("SIGTERM", s); !errors.Is(err, engine.ErrGone) {
			t.Errorf("Signal(%s) after exit = %v, want ErrGone", s, err)
		}
	}
}

// treeScript starts n descendants: half stay in the group, half escape
// with setsid through a double fork and ignore SIGTERM. Each prints R once
// it is set up.
func treeScript(n int) string {
	return fmt.Sprintf(`
i=0
while [ $i -lt %d ]; do
  if [ $((i %% 2)) -eq 0 ]; then
    sh -c 'echo R; exec sleep 1000' &
  else
    setsid sh -c 'trap "" TERM; (trap "" TERM; echo R; exec sleep 1000) & exit 0' &
  fi
  i=$((i+1))
done
echo R
wait
`, n)
}

// startTreeJob starts treeScript(n) and waits until each of its
// processes has said R.
func startTreeJob(t *testing.T, mode CgroupMode, n int) *job {
	t.Helper()
	j := startJob(t, mode, "/bin/sh", "-c", treeScript(n))
	j.waitLines("R", n+1)
	return j
}

func TestTreeTeardown(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			skipWithoutCgroup(t, m.mode)
			const n = 100
			j := startTreeJob(t, m.mode, n)
			if got := proctest.LiveAtLeast(j.marker, n+1, 2*time.Second); got < n+1 {
				t.Fatalf("%d processes running, want at least %d", got, n+1)
			}
			// SIGTERM to the group: the leader and the group half go.
			if err := j.r.Signal("SIGTERM", engine.ScopeGroup); err != nil {
				t.Fatal(err)
			}
			if e := j.exit(); e.Signal != "SIGTERM" {
				t.Errorf("leader exit = %+v, want SIGTERM", e)
			}
			// The escaped half ignores SIGTERM and is still there.
			if got := len(proctest.Live(j.marker)); got < n/2 {
				t.Errorf("%d processes left after SIGTERM to the group, want the %d escaped ones", got, n/2)
			}
			// SIGKILL to the tree reaches them although the leader is gone.
			if err := j.r.Signal("SIGKILL", engine.ScopeTree); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(proctest.Live(j.marker)) > 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if left := proctest.Live(j.marker); len(left) > 0 {
				t.Errorf("%d processes survived SIGKILL to the tree", len(left))
			}
		})
	}
}

// TestTreeKillNotesEscapes: a SIGKILL to the tree names each process
// that had left the job's group, and none that had not.
func TestTreeKillNotesEscapes(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			skipWithoutCgroup(t, m.mode)
			const n = 20
			j := startTreeJob(t, m.mode, n)
			// Each says R just before it becomes sleep 1000.
			sleeping := func() int {
				c := 0
				for _, pid := range proctest.Live(j.marker) {
					if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); string(b) == "sleep\x001000\x00" {
						c++
					}
				}
				return c
			}
			for deadline := time.Now().Add(5 * time.Second); sleeping() < n && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			if got := sleeping(); got < n {
				t.Fatalf("%d of the job's processes are sleep 1000, want %d", got, n)
			}
			if err := j.r.Signal("SIGKILL", engine.ScopeTree); err != nil {
				t.Fatal(err)
			}
			j.exit()
			// The sleeps that left the group, each once; the setsid'd
			// shells between them may still be there to name too
			// (exiting: "?").
			sleeps := 0
			for _, e := range j.r.Escaped() {
				switch {
				case e.Command == "sleep 1000" && e.How == "another process group, its parent gone":
					sleeps++
				case strings.HasPrefix(e.How, "setsid"):
				default:
					t.Errorf("escape %v: not one of the job's escapes", e)
				}
			}
			if sleeps != n/2 {
				t.Errorf("%d escaped sleeps named, want %d: %v", sleeps, n/2, j.r.Escaped())
			}
		})
	}
}

func TestCloseKillsEverything(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			skipWithoutCgroup(t, m.mode)
			// The leader exits at once, leaving daemons behind; Close (in
			// the cleanup) must kill them.
			j := startJob(t, m.mode, "/bin/sh", "-c", `
setsid sh -c 'trap "" TERM HUP; (echo R; exec sleep 1000) & exit 0' &
(trap "" TERM; echo R; exec sleep 1000) &
wait $!` /* waits only for the subshell to be set up */)
			j.waitLines("R", 2)
			_ = j.r.Signal("SIGKILL", engine.ScopeLeader)
			j.exit()
		})
	}
}

// TestCloseUrgentWhenTreeLeft: a job that ends on its own but leaves a
// process running gets Options.Urgent called by Close, once, while that
// process still runs (before the kill: the caller raises its priority for
// the cleanup there); a job that leaves nothing does not.
func TestCloseUrgentWhenTreeLeft(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			skipWithoutCgroup(t, m.mode)
			for _, left := range []bool{true, false} {
				script := "exit 0"
				if left {
					// Out of the job's group, so that the group's
					// SIGKILL at Close's start misses it.
					script = "setsid sleep 1000 & echo $!; exit 0"
				}
				var calls atomic.Int32
				var bg atomic.Int64
				alive := make(chan bool, 1)
				j := startJobOpts(t, Options{
					Args:   []string{"/bin/sh", "-c", script},
					Cgroup: m.mode,
					Urgent: func() {
						if calls.Add(1) == 1 {
							st, ok := readStat(int(bg.Load()))
							alive <- ok && st.state != 'Z'
						}
					},
				})
				if left {
					bg.Store(int64(j.readPid()))
				}
				j.exit()
				if err := j.r.Close(5 * time.Second); err != nil {
					t.Errorf("left %v: Close: %v", left, err)
				}
				switch n := calls.Load(); {
				case left && n != 1:
					t.Errorf("a process left running: Urgent called %d times, want 1", n)
				case left && !<-alive:
					t.Errorf("Urgent called after the process left running was killed")
				case !left && n != 0:
					t.Errorf("nothing left: Urgent called %d times, want 0", n)
				}
			}
		})
	}
}

// TestCloseReapsWhatItKills: the daemons a job left behind, adopted by
// this process (the subreaper) and killed by Close, are reaped by the time
// Close returns, where the orphan reaper runs (ReapOrphans, as in
// TestMain): a graceful that exits right after Close otherwise hands their
// zombies to init, and each holds a pid of the job's limit until init
// reaps it (about a second on the CI machines; TestRunForkBomb, run
// beside two other packages, counted 86 processes of the bomb 3 s after
// graceful's exit, probably such zombies).
func TestCloseReapsWhatItKills(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			skipWithoutCgroup(t, m.mode)
			j := startJob(t, m.mode, "/bin/sh", "-c", `i=0; while [ $i -lt 20 ]; do setsid sleep 1000 & echo $!; i=$((i+1)); done; exit 0`)
			var pids []int
			for range 20 {
				pids = append(pids, j.readPid())
			}
			j.exit()
			if err := j.r.Close(5 * time.Second); err != nil {
				t.Fatalf("Close: %v", err)
			}
			var zombies []int
			for _, pid := range pids {
				if st, ok := readStat(pid); ok && st.state == 'Z' {
					zombies = append(zombies, pid)
				}
			}
			if len(zombies) > 0 {
				t.Errorf("%d of 20 daemons killed by Close are zombies still: %v", len(zombies), zombies)
			}
		})
	}
}

// TestCloseEndsGuardian: Close kills and reaps the guardian itself, so
// that a job that ended cleanly leaves this process no child and Close no
// /proc to sweep; no guardian starts once Close has begun.
func TestCloseEndsGuardian(t *testing.T) {
	skipWithoutCgroup(t, CgroupOn)
	j := startJob(t, CgroupOn, "sleep", "1000")
	if err := j.r.StartGuardian(); err != nil {
		t.Fatal(err)
	}
	pid := int(j.r.guardian.Load())
	if pid <= 0 {
		t.Fatal("no guardian started")
	}
	// The guardian is an unreaped child until Close: its pid is its own.
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	// It runs on one P, whatever GOMAXPROCS graceful was given. Start
	// returns once execve has closed the descriptors, which is before
	// the kernel has set the new environment up: until then it reads
	// empty.
	var env []byte
	for end := time.Now().Add(5 * time.Second); len(env) == 0 && time.Now().Before(end); time.Sleep(time.Millisecond) {
		env, err = os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := lastEnv(string(env), "GOMAXPROCS"); got != "1" {
		t.Errorf("the guardian's GOMAXPROCS = %q, want 1 (environment %q)", got, env)
	}
	// Only this process's death ends it: the signals of a `pkill`, a
	// terminal's hang-up or Ctrl-C are ignored once it is set up.
	ignored := []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT}
	var mask uint64
	for _, sig := range ignored {
		mask |= 1 << (sig - 1)
	}
	sigIgn := func() uint64 {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "SigIgn:"); ok {
				n, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
				return n
			}
		}
		return 0
	}
	for end := time.Now().Add(5 * time.Second); sigIgn()&mask != mask && time.Now().Before(end); time.Sleep(time.Millisecond) {
	}
	if got := sigIgn(); got&mask != mask {
		t.Errorf("the guardian's SigIgn = %x, want %x (HUP INT TERM QUIT) in it", got, mask)
	}
	for _, sig := range ignored {
		_ = unix.PidfdSendSignal(fd, sig, nil, 0)
	}
	time.Sleep(200 * time.Millisecond)
	if n, _ := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 0); n != 0 {
		t.Errorf("the guardian ended on SIGHUP, SIGINT, SIGTERM or SIGQUIT")
	}
	if err := j.r.Signal("SIGKILL", engine.ScopeGroup); err != nil {
		t.Fatal(err)
	}
	j.exit()
	before := closeSweeps.Load()
	if err := j.r.Close(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if n := closeSweeps.Load() - before; n != 0 {
		t.Errorf("Close swept /proc %d times after a clean end with a guardian, want none", n)
	}
	if n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 0); n != 1 || err != nil {
		t.Errorf("the guardian is alive after Close (poll = %d, %v)", n, err)
	}
	if err := unix.Waitid(unix.P_PIDFD, fd, nil, unix.WEXITED|unix.WNOHANG, nil); err != unix.ECHILD {
		t.Errorf("waitid on the guardian after Close = %v, want ECHILD (reaped)", err)
	}
	if err := j.r.StartGuardian(); err != nil || j.r.guardian.Load() != int64(pid) {
		t.Errorf("StartGuardian after Close = %v, started %d; want nothing started", err, j.r.guardian.Load())
	}
}

// lastEnv returns the value of the last entry for key in a
// NUL-separated environment, as /proc/PID/environ has it.
func lastEnv(env, key string) string {
	v := ""
	for _, kv := range strings.Split(env, "\x00") {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

func TestForkingWhileKilled(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			skipWithoutCgroup(t, m.mode)
			j := startJob(t, m.mode, "/bin/sh", "-c", `
echo R
while :; do (sleep 1000 &) ; setsid sleep 1000 & done`)
			j.waitLines("R", 1)
			time.Sleep(200 * time.Millisecond) // let it fork a few hundred
			if err := j.r.Signal("SIGKILL", engine.ScopeTree); err != nil {
				t.Fatal(err)
			}
			j.exit()
			// Close (cleanup) asserts nothing is left.
		})
	}
}

func TestAbandon(t *testing.T) {
	j := startJobEnv(t, CgroupAuto, []string{"GRACEFUL_PROCESS_HELPER=ignore-term"}, os.Args[0])
	j.waitLines("ready", 1)
	if err := j.r.Signal("SIGTERM", engine.ScopeGroup); err != nil {
		t.Fatal(err)
	}
	if err := j.r.Abandon(); err != nil {
		t.Fatal(err)
	}
	e := j.exit()
	if e.Signal != "SIGKILL" && !e.Abandoned {
		t.Errorf("exit after Abandon = %+v, want SIGKILL or abandoned", e)
	}
}

func TestTermExit(t *testing.T) {
	j := startJobEnv(t, CgroupAuto, []string{"GRACEFUL_PROCESS_HELPER=term-exit"}, os.Args[0])
	j.waitLines("ready", 1)
	if err := j.r.Signal("SIGTERM", engine.ScopeGroup); err != nil {
		t.Fatal(err)
	}
	j.waitLines("bye", 1)
	if diff := cmp.Diff(engine.Exit{Code: 3}, j.exit()); diff != "" {
		t.Errorf("exit (-want +got):\n%s", diff)
	}
}

func TestExec(t *testing.T) {
	j := startJob(t, CgroupAuto, "/bin/sh", "-c", "exit 0")
	j.exit()
	pr, pw, _ := os.Pipe()
	defer pr.Close()
	j.r.opts.Stdout = pw

	t.Run("environment reaches the command", func(t *testing.T) {
		err := j.r.Exec(context.Background(), []string{"/bin/sh", "-c", "echo $GRACEFUL_OUTCOME"}, []string{"GRACEFUL_OUTCOME=cancelled"})
		if err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(pr).ReadString('\n')
		if line != "cancelled\n" {
			t.Errorf("command printed %q", line)
		}
	})
	t.Run("failing command", func(t *testing.T) {
		err := j.r.Exec(context.Background(), []string{"/bin/sh", "-c", "exit 7"}, nil)
		if err == nil || !strings.Contains(err.Error(), "exit status 7") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("cut off at ctx done, group and all", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := j.r.Exec(ctx, []string{"/bin/sh", "-c", "sleep 1000 & sleep 1000"}, []string{j.marker})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want deadline exceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Exec returned after %v", d)
		}
		if left := proctest.LiveAfter(j.marker, 2*time.Second); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	})
	pw.Close()
	_, _ = io.Copy(io.Discard, pr)
}

// SIGTERM to the tree reaches processes that left the group, in both modes.
func TestTreeSIGTERMReachesEscaped(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			skipWithoutCgroup(t, m.mode)
			j := startJob(t, m.mode, "/bin/sh", "-c", `
setsid sh -c '(echo R; exec sleep 1000) & exit 0' &
(echo R; exec sleep 1000) &
echo R
wait`)
			j.waitLines("R", 3)
			if err := j.r.Signal("SIGTERM", engine.ScopeTree); err != nil {
				t.Fatal(err)
			}
			if e := j.exit(); e.Signal != "SIGTERM" {
				t.Errorf("leader exit %+v, want SIGTERM", e)
			}
			if left := proctest.LiveAfter(j.marker, 5*time.Second); len(left) > 0 {
				t.Errorf("SIGTERM to the tree missed %v", left)
			}
		})
	}
}

// A leaf of the same name left behind (by a SIGKILLed graceful, or one that
// was PID 1 in another namespace) does not push the runner out of cgroup
// mode.
func TestCgroupNameTaken(t *testing.T) {
	skipWithoutCgroup(t, CgroupOn)
	mount, _, err := cgroup2Mount()
	if err != nil {
		t.Skip(err)
	}
	self, _ := ownCgroup()
	next := fmt.Sprintf("graceful-%d-%d", os.Getpid(), cgroupSeq.Load()+1)
	taken := filepath.Join(mount, self, next)
	if err := os.Mkdir(taken, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(taken)
	j := startJob(t, CgroupOn, "/bin/sh", "-c", "exit 0")
	j.exit()
	if j.r.Cgroup() == "" || j.r.Cgroup() == taken {
		t.Errorf("cgroup %q, want a fresh leaf beside %q", j.r.Cgroup(), taken)
	}
}

// A command that leaves its process group (here for the group of the
// process running it, with a child there) is still cut off at ctx done:
// Exec returns, and neither it nor its child survives Close.
func TestExecCutOffLeftItsGroup(t *testing.T) {
	if _, err := os.Stat("/usr/bin/perl"); err != nil {
		t.Skip("needs perl for setpgid to another group")
	}
	j := startJob(t, CgroupAuto, "/bin/sh", "-c", "exit 0")
	j.exit()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- j.r.Exec(ctx, []string{"/usr/bin/perl", "-e",
			`$SIG{TERM} = "IGNORE"; setpgrp(0, getpgrp(getppid())) or die "setpgrp: $!"; if (fork() == 0) { exec "sleep", "1000" } sleep 1000`},
			[]string{j.marker})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want deadline exceeded", err)
		}
	case <-time.After(10 * time.Second):
		// Unblock the Exec so the test ends; the failure is reported.
		for _, pid := range proctest.Live(j.marker) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		t.Fatal("Exec not cut off: the command left its group and was never killed")
	}
}

// Leaves left by a graceful that was SIGKILLed (empty, unlocked, of its
// naming) are removed when a later run closes; a leaf whose owner is alive
// (it holds the lock), one that is not empty and other directories are
// not.
func TestCgroupStaleLeavesRemoved(t *testing.T) {
	skipWithoutCgroup(t, CgroupOn)
	mount, _, err := cgroup2Mount()
	if err != nil {
		t.Skip(err)
	}
	self, _ := ownCgroup()
	parent := filepath.Join(mount, self)
	defer func(d time.Duration) { staleAge = d }(staleAge)
	staleAge = 0
	mk := func(name string) string {
		t.Helper()
		dir := filepath.Join(parent, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Remove(dir) })
		return dir
	}
	base := fmt.Sprintf("graceful-%d%d", 999, os.Getpid())
	stale := mk(base + "-1")
	other := mk("not" + base + "-1")
	live := mk(base + "-2")
	fd, err := lockLeaf(live)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	// Not empty: a child cgroup (rmdir refuses it as it refuses one
	// with processes).
	busy := mk(base + "-3")
	mk(filepath.Base(busy) + "/sub")

	j := startJob(t, CgroupOn, "/bin/sh", "-c", "exit 0")
	j.exit()
	if err := j.r.Close(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]bool{stale: false, other: true, live: true, busy: true} {
		if got := pathExists(dir); got != want {
			t.Errorf("%s exists = %v after Close, want %v", filepath.Base(dir), got, want)
		}
	}
}

// A runner that cannot start for a reason of its own (here the cgroup)
// says what failed rather than blaming the command.
func TestStartErrorNamesTheCause(t *testing.T) {
	se := &StartError{Name: "/bin/sh", Code: engine.ExitInternal,
		Err: fmt.Errorf("cgroup: %w", &os.PathError{Op: "mkdir", Path: "/sys/fs/cgroup/graceful-1-1", Err: syscall.EROFS})}
	if got, want := se.Error(), "/bin/sh: cannot start: cgroup: mkdir /sys/fs/cgroup/graceful-1-1: read-only file system"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	se = &StartError{Name: "job", Code: engine.ExitInternal, Err: syscall.EAGAIN}
	if got, want := se.Error(), "job: cannot start: resource temporarily unavailable"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// In a cgroup namespace of its own that sees the host's cgroup2 mount (a
// container given the host's /sys/fs/cgroup), the job stays inside
// graceful's cgroup: before, its leaf was made at the top of the mount,
// outside the namespace's root, taking the job out of the container's
// limits.
func TestCgroupNamespaceWithHostMount(t *testing.T) {
	skipWithoutCgroup(t, CgroupOn)
	if _, err := exec.LookPath("unshare"); err != nil || os.Geteuid() != 0 {
		t.Skip("needs unshare and root")
	}
	mount, root, err := cgroup2Mount()
	if err != nil || root != "/" {
		t.Skip("needs the host's cgroup2 mount")
	}
	self, _ := ownCgroup()
	dir := filepath.Join(mount, self, fmt.Sprintf("gtest-ns-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(dir)
	cmd := exec.Command("/bin/sh", "-c", `echo $$ > "$1/cgroup.procs" && exec unshare --cgroup "$2"`, "sh", dir, os.Args[0])
	cmd.Env = append(os.Environ(), "GRACEFUL_PROCESS_HELPER=cgroup-of-job")
	out, err := combinedOutput(cmd)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got := strings.TrimSpace(string(out)); !strings.HasPrefix(got, "0::/") || strings.HasPrefix(got, "0::/..") {
		t.Errorf("the job ran in %q, outside graceful's cgroup namespace root", got)
	}
}

// An unprivileged graceful in a cgroup whose directory it may write but
// whose cgroup.procs it may not (a partial delegation) can make the leaf,
// but the kernel refuses the clone into it with EACCES, which looks like
// execve's "permission denied": the job must still run (sweep mode), not
// fail with 126.
func TestCgroupCloneRefusedFallsBack(t *testing.T) {
	skipWithoutCgroup(t, CgroupOn)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs setpriv and root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip(err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	mount, _, err := cgroup2Mount()
	if err != nil {
		t.Skip(err)
	}
	self, _ := ownCgroup()
	dir := filepath.Join(mount, self, fmt.Sprintf("gtest-deleg-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer func() {
		leaves, _ := filepath.Glob(filepath.Join(dir, "graceful-*"))
		for _, l := range leaves {
			_ = os.Remove(l)
		}
		_ = os.Remove(dir)
	}()
	if err := os.Chown(dir, uid, -1); err != nil { // the directory only
		t.Fatal(err)
	}
	// The test binary where nobody may run it.
	helper := proctest.ExecutableForAll(t, "helper")
	cmd := exec.Command("/bin/sh", "-c", `echo $$ > "$1/cgroup.procs" && exec "$2" --reuid="$3" --regid="$3" --clear-groups "$4"`,
		"sh", dir, setpriv, nobody.Uid, helper)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "GRACEFUL_PROCESS_HELPER=cgroup-of-job")
	out, err := combinedOutput(cmd)
	if err != nil || !strings.HasPrefix(string(out), "0::/") {
		t.Errorf("the job did not run: %v: %s", err, out)
	}
	// --cgroup on: graceful's own failure (125, naming the cgroup), not
	// the command's (126).
	cmd = exec.Command(cmd.Args[0], cmd.Args[1:]...)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "GRACEFUL_PROCESS_HELPER=cgroup-on-job")
	out, _ = combinedOutput(cmd)
	if !strings.Contains(string(out), "cannot start: cgroup: access ") || !strings.Contains(string(out), "cgroup.procs: permission denied") {
		t.Errorf("--cgroup on said %q, want a 125 naming cgroup.procs", out)
	}
}

// A job that made cgroups inside its leaf (a nested graceful, a container
// runtime) and was killed in one of them: Close removes the leaf and those
// below it.
func TestCgroupNestedRemoved(t *testing.T) {
	skipWithoutCgroup(t, CgroupOn)
	mount, _, err := cgroup2Mount()
	if err != nil {
		t.Skip(err)
	}
	j := startJobEnv(t, CgroupOn, []string{"CGMOUNT=" + mount}, "/bin/sh", "-c", `
d="$CGMOUNT$(sed -n 's/^0:://p' /proc/self/cgroup)"
mkdir -p "$d/inner/deeper" || exit 1
sh -c 'echo $$ > "$1/inner/deeper/cgroup.procs" && echo R && exec sleep 1000' sh "$d" &
wait`)
	j.waitLines("R", 1)
	leaf := j.r.Cgroup()
	if err := j.r.Signal("SIGKILL", engine.ScopeTree); err != nil {
		t.Fatal(err)
	}
	j.exit()
	if err := j.r.Close(5 * time.Second); err != nil {
		t.Errorf("Close: %v", err)
	}
	if pathExists(leaf) {
		t.Errorf("%s left behind", leaf)
		_ = removeTree(leaf)
	}
}

// SignalLead sends a tree's SIGKILL to the job's group (the engine's
// lead before the tree's kill) and nothing for any other signal or scope.
func TestSignalLead(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			skipWithoutCgroup(t, m.mode)
			j := startJob(t, m.mode, "/bin/sh", "-c", `trap "" TERM; echo R; while :; do sleep 1; done`)
			j.waitLines("R", 1)
			for _, c := range []struct {
				sig   string
				scope engine.Scope
			}{{"SIGTERM", engine.ScopeTree}, {"SIGKILL", engine.ScopeGroup}, {"SIGKILL", engine.ScopeLeader}} {
				if j.r.SignalLead(c.sig, c.scope) {
					t.Errorf("SignalLead(%s, %s) = true, want no lead", c.sig, c.scope)
				}
			}
			select {
			case e := <-j.r.Done():
				t.Fatalf("the job ended without a lead: %+v", e)
			case <-time.After(100 * time.Millisecond):
			}
			if !j.r.SignalLead("SIGKILL", engine.ScopeTree) {
				t.Error("SignalLead(SIGKILL, tree) = false")
			}
			if e := j.exit(); e.Signal != "SIGKILL" {
				t.Errorf("exit %+v, want a SIGKILL death", e)
			}
		})
	}
}

// RaisePriority gives every thread nice -5 (with CAP_SYS_NICE) and the
// short slice (where the kernel has custom slices), threads started
// afterwards too once a signal has gone out, and a process started
// afterwards neither.
func TestRaisePriority(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs CAP_SYS_NICE")
	}
	// Threads started after the raise are raised after a signal sent,
	// and after a command started.
	for _, after := range []string{"signal", "exec"} {
		t.Run(after, func(t *testing.T) { testRaisePriority(t, after) })
	}
}

func testRaisePriority(t *testing.T, after string) {
	cmd := exec.Command(os.Args[0], after)
	cmd.Env = append(os.Environ(), "GRACEFUL_PROCESS_HELPER=raise-priority")
	out, err := combinedOutput(cmd)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var threads, sliced int
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 2 && f[0] == "raised":
			if f[1] != "true" {
				t.Errorf("RaisePriority = %s as root", f[1])
			}
		case len(f) == 3 && f[0] == "thread":
			threads++
			if f[1] != strconv.Itoa(supervisorNice) {
				t.Errorf("a thread has nice %s, want %d", f[1], supervisorNice)
			}
			if f[2] == strconv.Itoa(supervisorSlice) {
				sliced++
			}
		case len(f) == 3 && f[0] == "child":
			if f[1] != "0" || f[2] == strconv.Itoa(supervisorSlice) {
				t.Errorf("a child started afterwards has nice %s and slice %s: RESET_ON_FORK lost", f[1], f[2])
			}
		default:
			t.Errorf("helper said %q", l)
		}
	}
	if threads == 0 {
		t.Fatalf("no thread listed: %s", out)
	}
	if customSlices() {
		if sliced != threads {
			t.Errorf("%d of %d threads have the short slice", sliced, threads)
		}
	} else if sliced != 0 {
		t.Errorf("%d threads have a custom slice on a kernel without them", sliced)
	}
}

// allRaised reports whether every thread has the nice RaisePriority gave.
func allRaised() bool {
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		tid, _ := strconv.Atoi(t.Name())
		if a, err := unix.SchedGetAttr(tid, 0); err == nil && a.Nice != raisedTo.Load() {
			return false
		}
	}
	return true
}

// customSlices reports whether the kernel keeps a SCHED_NORMAL thread's
// sched_runtime (Linux 6.12 and later), tried on a thread that is then
// thrown away (a goroutine that exits locked ends its thread).
func customSlices() bool {
	ok := make(chan bool)
	go func() {
		runtime.LockOSThread()
		attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_NORMAL, Runtime: supervisorSlice}
		if unix.SchedSetAttr(0, &attr, 0) != nil {
			ok <- false
			return
		}
		got, err := unix.SchedGetAttr(0, 0)
		ok <- err == nil && got.Runtime == supervisorSlice
	}()
	return <-ok
}

// removeIfEmpty removes an empty leaf in one rmdir, and leaves one with a
// process or a cgroup inside to Close's kill and removal.
func TestCgroupRemoveIfEmpty(t *testing.T) {
	skipWithoutCgroup(t, CgroupOn)
	cg, err := newCgroup()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cg.remove() }()
	inner := filepath.Join(cg.dir, "inner")
	if err := os.Mkdir(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	if cg.removeIfEmpty() {
		t.Fatal("removed a leaf with a cgroup inside")
	}
	if err := syscall.Rmdir(inner); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cg.fd}
	if err := startOwned(cmd); err != nil {
		t.Fatal(err)
	}
	if cg.removeIfEmpty() {
		t.Error("removed a leaf with a process in it")
	}
	_ = cmd.Process.Kill()
	_ = waitOwned(cmd)
	if !cg.removeIfEmpty() {
		t.Fatal("an empty leaf was not removed")
	}
	if pathExists(cg.dir) || cg.fd != -1 {
		t.Errorf("leaf %s: exists %v, fd %d after removal", cg.dir, pathExists(cg.dir), cg.fd)
	}
}

// A leader that moved to another process group of the session is still
// reached by a group signal (before, kill(-pid) found no such group and
// the engine was told the job had already stopped).
func TestGroupSignalReachesLeaderThatLeft(t *testing.T) {
	if _, err := os.Stat("/usr/bin/perl"); err != nil {
		t.Skip("needs perl for setpgid to another group")
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			skipWithoutCgroup(t, m.mode)
			j := startJob(t, m.mode, "/usr/bin/perl", "-e",
				`$| = 1; setpgrp(0, getpgrp(getppid())) or die "setpgrp: $!"; print "R\n"; sleep 1000`)
			j.waitLines("R", 1)
			if err := j.r.Signal("SIGTERM", engine.ScopeGroup); err != nil {
				t.Fatalf("Signal(SIGTERM, group) = %v", err)
			}
			if e := j.exit(); e.Signal != "SIGTERM" {
				t.Errorf("exit %+v, want a SIGTERM death", e)
			}
		})
	}
}

// A signal to the tree reaches the processes in cgroups the job made
// inside its leaf (a nested graceful, a container runtime).
func TestTreeSignalReachesNestedCgroups(t *testing.T) {
	skipWithoutCgroup(t, CgroupOn)
	mount, _, err := cgroup2Mount()
	if err != nil {
		t.Skip(err)
	}
	j := startJobEnv(t, CgroupOn, []string{"CGMOUNT=" + mount}, "/bin/sh", "-c", `
d="$CGMOUNT$(sed -n 's/^0:://p' /proc/self/cgroup)"
mkdir -p "$d/inner" || exit 1
sh -c 'echo $$ > "$1/inner/cgroup.procs" && echo R && exec sleep 1000' sh "$d" &
trap "" TERM
wait`)
	j.waitLines("R", 1)
	if err := j.r.Signal("SIGTERM", engine.ScopeTree); err != nil {
		t.Fatal(err)
	}
	// The leader ignores SIGTERM and waits for its child: it exits once
	// the child in the inner cgroup is gone.
	done := make(chan engine.Exit, 1)
	go func() { done <- <-j.r.Done() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Errorf("SIGTERM to the tree missed the process in the inner cgroup: %v", proctest.Live(j.marker))
	}
}

// Start forks the job only once Options.Ready is closed (the caller is
// still catching its signals).
func TestStartWaitsForReady(t *testing.T) {
	ready := make(chan struct{})
	var opened atomic.Bool
	go func() {
		time.Sleep(50 * time.Millisecond)
		opened.Store(true)
		close(ready)
	}()
	r, err := Start(Options{Args: []string{"true"}, Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	if !opened.Load() {
		t.Error("the job was started before Ready was closed")
	}
	<-r.Done()
	if err := r.Close(5 * time.Second); err != nil {
		t.Error(err)
	}
}
