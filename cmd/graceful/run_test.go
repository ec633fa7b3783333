//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graceful-sh/graceful/engine/process"
	"github.com/graceful-sh/graceful/engine/supervise"
	"github.com/graceful-sh/graceful/internal/proctest"
)

// testPolicy is the process profile with short times, so tests are quick:
// SIGTERM to the group at t0, SIGKILL to the tree at grace, deadline.
func testPolicy(grace, deadline string, finalize string) string {
	fin := ""
	if finalize != "" {
		fin = fmt.Sprintf("\n  finalize {\n    command = [\"/bin/sh\", \"-c\", %q]\n    reserve = \"100ms\"\n  }\n", finalize)
	}
	return fmt.Sprintf(`profile "test" {
  runner = "process"
  on "SIGINT"  { actions = ["drain", "cancel", "exit"] }
  on "SIGTERM" { actions = ["drain", "cancel", "exit"] }
  on "SIGQUIT" { actions = ["cancel"] }
  on "SIGHUP"  { actions = ["ignore"] }
  cancel {
    step "interrupt" {
      at     = "0s"
      signal = "SIGTERM"
      target = "group"
    }
    step "kill" {
      at     = %q
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = %q
  }%s
}
`, grace, deadline, fin)
}

// harness is one `graceful run` (the test binary as graceful) with its
// job; its output is collected, and at the end no process of the job may
// be left.
type harness struct {
	t      *testing.T
	cmd    *gracefulProc
	marker string
	dir    string
}

type gracefulProc struct {
	mu     sync.Mutex
	cond   *sync.Cond
	lines  []string // stdout
	eof    bool
	stderr strings.Builder
	done   chan struct{}
	state  *os.ProcessState
	start  time.Time
	end    time.Time
	pid    int
}

// startRun starts `graceful run` with policy (HCL text, written to a temp
// file, profile "test"; empty for the built-ins) and args (flags, "--",
// job argv).
func startRun(t *testing.T, policy string, args ...string) *harness {
	t.Helper()
	return startRunCmd(t, "", withPolicy(t, policy, args)...)
}

// withPolicy writes policy and returns graceful's args for it.
func withPolicy(t *testing.T, policy string, args []string) []string {
	t.Helper()
	full := []string{"run"}
	if policy != "" {
		file := filepath.Join(t.TempDir(), "policy.hcl")
		if err := os.WriteFile(file, []byte(policy), 0o644); err != nil {
			t.Fatal(err)
		}
		full = append(full, "--policy", file, "--profile", "test")
	}
	return append(full, args...)
}

// startRunCmd starts prog with args (graceful itself, the test binary,
// when prog is empty) in the helper environment, with a marker.
func startRunCmd(t *testing.T, prog string, full ...string) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir()}
	h.marker = fmt.Sprintf("GRACEFUL_TEST_MARKER=%s-%d", strings.ReplaceAll(t.Name(), "/", "_"), time.Now().UnixNano())
	cmd := gracefulCmd(full...)
	if prog != "" {
		cmd.Path, cmd.Args = prog, append([]string{prog}, full...)
	}
	cmd.Env = append(cmd.Env, h.marker)
	cmd.Dir = h.dir
	// stdout is a pipe of our own, and Wait gives up on stderr 2 s after
	// graceful exited: a process left behind holding them must fail the
	// test (assertNoneLeft), not hang it.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = pw
	cmd.WaitDelay = 2 * time.Second
	p := &gracefulProc{done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	cmd.Stderr = &lockedWriter{mu: &p.mu, b: &p.stderr}
	p.start = time.Now()
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		t.Fatal(err)
	}
	p.pid = cmd.Process.Pid
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		s := bufio.NewScanner(pr)
		s.Buffer(make([]byte, 1<<20), 1<<20)
		for s.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, s.Text())
			p.cond.Broadcast()
			p.mu.Unlock()
		}
	}()
	go func() {
		_ = cmd.Wait()
		p.mu.Lock()
		p.state = cmd.ProcessState
		p.end = time.Now()
		p.mu.Unlock()
		// Read what is still in the pipe: until EOF, or until 2 s pass
		// without a new line (a process left behind holds the pipe;
		// a loaded machine only makes the reader slow), 20 s at most
		// (one left behind may go on writing).
		limit := time.Now().Add(20 * time.Second)
		for drained := false; !drained && time.Now().Before(limit); {
			p.mu.Lock()
			n := len(p.lines)
			p.mu.Unlock()
			select {
			case <-scanned:
				drained = true
			case <-time.After(2 * time.Second):
				p.mu.Lock()
				drained = len(p.lines) == n
				p.mu.Unlock()
			}
		}
		pr.Close()
		<-scanned
		p.mu.Lock()
		p.eof = true
		p.cond.Broadcast()
		p.mu.Unlock()
		close(p.done)
	}()
	h.cmd = p
	t.Cleanup(func() {
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
			<-p.done
			t.Errorf("graceful did not exit; stderr:\n%s", h.stderr())
		}
		proctest.AssertNoneLeft(t, h.marker, 2*time.Second)
	})
	return h
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// waitLine waits until stdout has a line equal to want.
func (h *harness) waitLine(want string) {
	h.t.Helper()
	timer := time.AfterFunc(10*time.Second, func() {
		h.cmd.mu.Lock()
		h.cmd.eof = true // unblock; reported below
		h.cmd.cond.Broadcast()
		h.cmd.mu.Unlock()
	})
	defer timer.Stop()
	p := h.cmd
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for _, l := range p.lines {
			if l == want {
				return
			}
		}
		if p.eof {
			h.t.Fatalf("no line %q on stdout; got %q; stderr:\n%s", want, p.lines, p.stderr.String())
		}
		p.cond.Wait()
	}
}

// waitStderr waits until graceful's stderr contains s (an event line).
func (h *harness) waitStderr(s string) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(h.stderr(), s) {
		if time.Now().After(deadline) {
			h.t.Fatalf("stderr never showed %q:\n%s", s, h.stderr())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// signalSeen sends sig and waits for graceful to log its n-th delivery:
// two quick kill(2)s of one signal may merge into one delivery.
func (h *harness) signalSeen(sig syscall.Signal, n int) {
	h.t.Helper()
	h.signal(sig)
	h.waitStderr(fmt.Sprintf("signal %s #%d", sigName(sig), n))
}

func sigName(sig syscall.Signal) string { return process.SignalName(sig) }

func (h *harness) signal(sig syscall.Signal) {
	h.t.Helper()
	if err := syscall.Kill(h.cmd.pid, sig); err != nil {
		h.t.Fatal(err)
	}
}

// wait waits for graceful to exit and returns its status as a shell would
// show it (128+N for a signal) and the time since start.
func (h *harness) wait() (int, time.Duration) {
	h.t.Helper()
	select {
	case <-h.cmd.done:
	case <-time.After(15 * time.Second):
		h.t.Fatalf("graceful did not exit; stderr:\n%s", h.stderr())
	}
	ws := h.cmd.state.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal()), h.cmd.end.Sub(h.cmd.start)
	}
	return ws.ExitStatus(), h.cmd.end.Sub(h.cmd.start)
}

func (h *harness) stderr() string {
	h.cmd.mu.Lock()
	defer h.cmd.mu.Unlock()
	return h.cmd.stderr.String()
}

func (h *harness) stdout() []string {
	h.cmd.mu.Lock()
	defer h.cmd.mu.Unlock()
	return append([]string(nil), h.cmd.lines...)
}

// running reports whether graceful is still running after d.
func (h *harness) running(d time.Duration) bool {
	select {
	case <-h.cmd.done:
		return false
	case <-time.After(d):
		return true
	}
}

func TestRunExitStatus(t *testing.T) {
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		job    []string
		status int
		stderr string // a line graceful must print
	}{
		{"job exits 0", jobArgv("exit", "0"), 0, ""},
		{"job exits 1", jobArgv("exit", "1"), 1, ""},
		{"job exits 2", jobArgv("exit", "2"), 2, ""},
		{"job exits 42", jobArgv("exit", "42"), 42, ""},
		{"job exits 255", jobArgv("exit", "255"), 255, ""},
		{"job dies of SIGHUP", jobArgv("die", "SIGHUP"), 129, ""},
		{"job dies of SIGINT", jobArgv("die", "SIGINT"), 130, ""},
		{"job dies of SIGQUIT", jobArgv("die", "SIGQUIT"), 131, ""},
		{"job dies of SIGKILL", jobArgv("die", "SIGKILL"), 137, ""},
		{"job dies of SIGTERM", jobArgv("die", "SIGTERM"), 143, ""},
		{"command not found", []string{"graceful-no-such-command"}, 127, "graceful: graceful-no-such-command: command not found"},
		{"command not executable", []string{noexec}, 126, "graceful: " + noexec + ": not executable: permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := startRun(t, "", append([]string{"--"}, tt.job...)...)
			status, _ := h.wait()
			if status != tt.status {
				t.Errorf("status %d, want %d; stderr:\n%s", status, tt.status, h.stderr())
			}
			if tt.stderr != "" && !strings.Contains(h.stderr(), tt.stderr+"\n") {
				t.Errorf("stderr %q lacks %q", h.stderr(), tt.stderr)
			}
			if strings.Contains(h.stderr(), "goroutine ") {
				t.Errorf("stderr holds a goroutine dump:\n%s", h.stderr())
			}
		})
	}
}

func TestRunArgumentsReachTheJob(t *testing.T) {
	h := startRun(t, "", "/bin/sh", "-c", `for a in "$@"; do echo "[$a]"; done`, "sh", "--profile", "x", "-v", "a b", "")
	if status, _ := h.wait(); status != 0 {
		t.Fatalf("status %d; stderr:\n%s", status, h.stderr())
	}
	want := []string{"[--profile]", "[x]", "[-v]", "[a b]", "[]"}
	if diff := cmp.Diff(want, h.stdout()); diff != "" {
		t.Errorf("job's arguments (-want +got):\n%s", diff)
	}
}

func TestRunReraise(t *testing.T) {
	for _, sig := range []string{"SIGTERM", "SIGQUIT"} {
		t.Run(sig, func(t *testing.T) {
			t.Parallel()
			h := startRun(t, "", append([]string{"--reraise", "--"}, jobArgv("die", sig)...)...)
			h.wait()
			ws := h.cmd.state.Sys().(syscall.WaitStatus)
			want, _ := process.SignalNumber(sig)
			if !ws.Signaled() || ws.Signal() != want {
				t.Fatalf("graceful %v, want a death by %s; stderr:\n%s", h.cmd.state, sig, h.stderr())
			}
			if strings.Contains(h.stderr(), "goroutine ") || strings.Contains(h.stderr(), "PC=") {
				t.Errorf("stderr holds a Go crash report:\n%s", h.stderr())
			}
		})
	}
}

// If graceful itself is SIGKILLed, the job's leader gets SIGKILL too (its
// parent-death signal); the cleanup asserts it is gone.
// graceful SIGKILLed (a CI agent killing its job's process group at its
// own grace period): in cgroup mode the guardian kills the job's leaf, so
// nothing of the job survives, a setsid'd daemon included.
func TestRunGracefulKilledTreeDies(t *testing.T) {
	skipWithoutCgroup(t, "on")
	h := startRun(t, "", "--cgroup", "on", "--", "/bin/sh", "-c", "setsid sleep 1000 & echo ready; sleep 1000")
	h.waitLine("ready")
	time.Sleep(supervise.SettleAfter + 300*time.Millisecond) // the guardian starts then
	h.signal(syscall.SIGKILL)
	if status, _ := h.wait(); status != 137 {
		t.Errorf("graceful status %d, want 137", status)
	}
	// The harness checks that no process of the job is left.
}

// The guardian is graceful's, not the job's: a run long enough to start it
// reports no escape, and leaves nothing behind.
func TestRunGuardianIsNotAnEscape(t *testing.T) {
	skipWithoutCgroup(t, "on")
	h := startRun(t, "", "--cgroup", "on", "--", "/bin/sh", "-c", "sleep 0.6")
	if status, _ := h.wait(); status != 0 {
		t.Errorf("status %d; stderr:\n%s", status, h.stderr())
	}
	if strings.Contains(h.stderr(), "escaped") {
		t.Errorf("the guardian was reported as an escape:\n%s", h.stderr())
	}
}

// -v says how the job's tree is tracked and, in the /proc sweep (where
// there is no guardian), that what leaves the job's process group
// survives a SIGKILLed graceful (issue #10, item 2: a limit graceful
// must state at run time).
func TestRunVerboseTree(t *testing.T) {
	const sweep = "; if graceful is SIGKILLed, the job's processes that left its process group survive it\n"
	check := func(t *testing.T, h *harness, want string) {
		t.Helper()
		if status, _ := h.wait(); status != 0 {
			t.Fatalf("status %d; stderr:\n%s", status, h.stderr())
		}
		if !strings.Contains(h.stderr(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, h.stderr())
		}
	}
	t.Run("off", func(t *testing.T) {
		check(t, startRun(t, "", "-v", "--cgroup", "off", "--", "true"), "graceful: tree: /proc sweep (cgroup off)"+sweep)
	})
	t.Run("cgroup", func(t *testing.T) {
		skipWithoutCgroup(t, "on")
		check(t, startRun(t, "", "-v", "--", "true"), "graceful: tree: cgroup /")
	})
	t.Run("auto without a leaf", func(t *testing.T) {
		// Another uid may not write the cgroup.procs that moving the job
		// into a leaf needs: auto falls back to the sweep, and says why.
		skipWithoutCgroup(t, "on")
		setpriv, err := exec.LookPath("setpriv")
		if err != nil || os.Geteuid() != 0 {
			t.Skip("needs root and setpriv to run graceful as another uid")
		}
		bin := proctest.ExecutableForAll(t, "graceful")
		uid := strconv.Itoa(61000 + os.Getpid()%4000)
		h := startRunCmd(t, setpriv, "--reuid="+uid, "--regid="+uid, "--clear-groups", bin, "run", "-v", "--", "true")
		check(t, h, "graceful: tree: /proc sweep (no cgroup leaf: access ")
		if !strings.Contains(h.stderr(), sweep) {
			t.Errorf("stderr lacks %q:\n%s", sweep, h.stderr())
		}
	})
}

func TestRunGracefulKilled(t *testing.T) {
	h := startRun(t, "", append([]string{"--cgroup", "off", "--"}, jobArgv("ignore-term")...)...)
	h.waitLine("ready")
	h.signal(syscall.SIGKILL)
	if status, _ := h.wait(); status != 137 {
		t.Errorf("graceful status %d, want 137", status)
	}
}

// As PID 1 of a PID namespace (a container's entrypoint), graceful reaps
// every orphan the job leaves, as tini does.
func TestRunAsPID1ReapsOrphans(t *testing.T) {
	unshare, err := exec.LookPath("unshare")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs unshare and root for a PID namespace")
	}
	script := `
for i in 1 2 3 4 5; do (sleep 0.1 &); done
sleep 0.5
echo "pid1 $(cat /proc/1/comm)"
echo "zombies $(cat /proc/[0-9]*/stat | awk '$3 == "Z"' | wc -l)"`
	args := append([]string{"-fp", "--mount-proc", os.Args[0]}, "run", "--", "/bin/sh", "-c", script)
	h := startRunCmd(t, unshare, args...)
	if status, _ := h.wait(); status != 0 {
		t.Fatalf("status %d; stderr:\n%s", status, h.stderr())
	}
	out := h.stdout()
	if !contains(out, "zombies 0") {
		t.Errorf("orphans left as zombies: %q; stderr:\n%s", out, h.stderr())
	}
	if len(out) == 0 || !strings.HasPrefix(out[0], "pid1 ") || out[0] == "pid1 sh" {
		t.Errorf("graceful was not PID 1: %q", out)
	}
}

// run's own failures are 125, never a status a job could have meant.
func TestRunOwnErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.hcl")
	if err := os.WriteFile(bad, []byte("profile \"test\" {\n  on \"SIGTREM\" { actions = [\"cancel\"] }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no command", []string{"run"}, "no command given"},
		{"unknown flag", []string{"run", "--no-such-flag", "--", "true"}, "unknown flag: --no-such-flag"},
		{"bad cgroup mode", []string{"run", "--cgroup", "maybe", "--", "true"}, "want auto, on or off"},
		{"negative timeout", []string{"run", "--timeout", "-1s", "--", "true"}, "must not be negative"},
		{"policy that does not load", []string{"run", "--policy", bad, "--profile", "test", "--", "true"}, "bad.hcl:2"},
		{"policy errors are summed up after the diagnostics", []string{"run", "--policy", bad, "--profile", "test", "--", "true"}, "bad.hcl does not load (1 error)\n"},
		{"unknown profile", []string{"run", "--profile", "nope", "--", "true"}, "no profile named"},
		{"command for the kubernetes coordinator", []string{"run", "--profile", "kubernetes", "--", "true"}, "start jobs with graceful join"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := startRunCmd(t, "", tt.args...)
			if status, _ := h.wait(); status != 125 {
				t.Errorf("status %d, want 125; stderr:\n%s", status, h.stderr())
			}
			if !strings.Contains(h.stderr(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", h.stderr(), tt.stderr)
			}
			if strings.Contains(h.stderr(), "graceful: Error") {
				t.Errorf("a diagnostic behind the program name: %q", h.stderr())
			}
		})
	}
}

// graceful's stderr is a pipe whose reader has gone (`graceful run ... 2>&1
// | head -1`): the event lines it then writes must not kill it with SIGPIPE
// before it has cleaned up, and the status is still the run's.
func TestRunStderrReaderGone(t *testing.T) {
	marker := fmt.Sprintf("GRACEFUL_TEST_MARKER=%s-%d", t.Name(), time.Now().UnixNano())
	cmd := gracefulCmd(withPolicy(t, testPolicy("300ms", "5s", ""), []string{"--timeout", "200ms", "--",
		"/bin/sh", "-c", `trap "" TERM; setsid sleep 1000 & exec sleep 1000`})...)
	cmd.Env = append(cmd.Env, marker)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	pr.Close()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	defer proctest.AssertNoneLeft(t, marker, 2*time.Second)
	killed := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
	defer killed.Stop()
	_ = cmd.Wait()
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() || ws.ExitStatus() != 124 {
		t.Errorf("graceful %v, want exit status 124 (timeout)", cmd.ProcessState)
	}
}
