//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/graceful-sh/graceful/internal/proctest"
)

// stalledRun starts graceful with args, with its stderr (and stdout when
// alsoStdout) on a pipe that nobody reads until the test says so: a
// terminal paused with Ctrl-S, or a log reader that stopped. The job
// fills the pipe first, so graceful's own first write would block.
type stalledRun struct {
	t      *testing.T
	pid    int
	rd     *os.File
	start  time.Time
	done   chan struct{}
	status int
	took   time.Duration
	marker string
}

func startStalled(t *testing.T, alsoStdout bool, args ...string) *stalledRun {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &stalledRun{t: t, rd: pr, done: make(chan struct{})}
	s.marker = fmt.Sprintf("GRACEFUL_TEST_MARKER=%s-%d", strings.ReplaceAll(t.Name(), "/", "_"), time.Now().UnixNano())
	cmd := gracefulCmd(args...)
	cmd.Env = append(cmd.Env, s.marker)
	cmd.Dir = t.TempDir()
	cmd.Stderr = pw
	if alsoStdout {
		cmd.Stdout = pw
	}
	s.start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	s.pid = cmd.Process.Pid
	go func() {
		err := cmd.Wait()
		s.took = time.Since(s.start)
		s.status = cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			s.status = 128 + int(ws.Signal())
		}
		_ = err
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = syscall.Kill(s.pid, syscall.SIGKILL)
			<-s.done
		}
		pr.Close()
		proctest.AssertNoneLeft(t, s.marker, 2*time.Second)
	})
	return s
}

// wait waits at most limit for graceful to exit; it fails the test (and
// kills graceful) when graceful is still running then.
func (s *stalledRun) wait(limit time.Duration) (int, time.Duration) {
	s.t.Helper()
	select {
	case <-s.done:
		return s.status, s.took
	case <-time.After(limit):
		_ = syscall.Kill(s.pid, syscall.SIGKILL)
		<-s.done
		s.t.Fatalf("graceful still running %v after start with its output stalled: the stall held up the timeline", limit)
		return 0, 0
	}
}

// drain reads what is left in the pipe (the writers are gone).
func (s *stalledRun) drain() string {
	var b bytes.Buffer
	done := make(chan struct{})
	go func() { _, _ = io.Copy(&b, s.rd); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.rd.Close()
		<-done
	}
	return b.String()
}

// fillAndIgnoreTerm is a job that fills its stderr pipe (so that it stays
// full) and ignores SIGTERM, as in the report: only the timeline's SIGKILL
// ends it.
const fillAndIgnoreTerm = `head -c 200000 /dev/zero >&2 & trap '' TERM; sleep 60`

// A paused terminal or a pipe nobody reads, on stderr or on --events -,
// must not hold up the timeline: the SIGKILL step and the deadline fire on
// time and graceful exits with the timeout's 124, its own lines lost (and
// counted), never waited for.
func TestRunStalledOutputKeepsTheTimeline(t *testing.T) {
	for _, tc := range []struct {
		name       string
		alsoStdout bool
		flag       string
	}{
		{"stderr", false, "-v"},
		{"events on stdout", true, "--events=-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			policy := writePolicy(t, testPolicy("1s", "2s", ""))
			s := startStalled(t, tc.alsoStdout, "run", "--policy", policy, "--profile", "test", tc.flag,
				"--timeout", "500ms", "--", "/bin/bash", "-c", fillAndIgnoreTerm)
			// Timeout 0.5 s + SIGKILL at 1 s: the job is dead at 1.5 s.
			// Generous bound for a loaded machine; before, graceful never
			// exited.
			status, took := s.wait(15 * time.Second)
			if status != 124 {
				t.Errorf("status %d, want 124 (timeout, job killed at the kill step)", status)
			}
			if took > 10*time.Second {
				t.Errorf("graceful took %v; the kill step is due at 1.5 s", took)
			}
		})
	}
}

// When the output is only slow to be read (the terminal resumed with
// Ctrl-Q), graceful's lines arrive once it drains, and the timeline did
// not wait for them: the kill step's line still says it ran at +1 s. A
// slow finalisation keeps graceful running until the output drains.
func TestRunStderrResumedAfterStall(t *testing.T) {
	t.Parallel()
	policy := writePolicy(t, testPolicy("1s", "5s", "sleep 2.5"))
	s := startStalled(t, false, "run", "--policy", policy, "--profile", "test", "-v",
		"--timeout", "500ms", "--", "/bin/bash", "-c", fillAndIgnoreTerm)
	time.Sleep(3 * time.Second) // the kill is due at 1.5 s
	out := s.drain()
	status, _ := s.wait(15 * time.Second)
	if status != 124 {
		t.Errorf("status %d, want 124; stderr tail:\n%s", status, tail(out, 2000))
	}
	var kill string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "step:kill") {
			kill = strings.TrimLeft(line, "\x00")
		}
	}
	if kill == "" {
		t.Fatalf("no step:kill line once the output drained; tail:\n%s", tail(out, 2000))
	}
	var at float64
	if _, err := fmt.Sscanf(strings.TrimSpace(kill), "+%fs", &at); err != nil {
		t.Fatalf("kill line %q: %v", kill, err)
	}
	if at > 1.5 {
		t.Errorf("kill step logged at +%.3fs, due at +1s: %q", at, kill)
	}
}

func writePolicy(t *testing.T, text string) string {
	t.Helper()
	name := t.TempDir() + "/policy.hcl"
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func tail(s string, n int) string {
	s = strings.TrimLeft(s, "\x00")
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// A misspelt --profile on run gets a did-you-mean, as explain's does.
func TestRunProfileDidYouMean(t *testing.T) {
	cmd := gracefulCmd("run", "--profile", "proces", "--", "/bin/true")
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 125 {
		t.Fatalf("exit %v, want 125; output:\n%s", err, out)
	}
	if !strings.Contains(string(out), `"process"`) || !strings.Contains(string(out), "did you mean") {
		t.Errorf("no did-you-mean for \"proces\":\n%s", out)
	}
}

// Signals graceful was started with ignored stay ignored for the job, as
// env, coreutils timeout and tini keep them (nohup graceful run -- job).
func TestRunKeepsInheritedIgnoredSignals(t *testing.T) {
	env, err := exec.LookPath("env")
	if err != nil {
		t.Skip("no env")
	}
	if out, err := exec.Command(env, "--ignore-signal=HUP", "true").CombinedOutput(); err != nil {
		t.Skipf("env --ignore-signal unsupported: %v %s", err, out)
	}
	cmd := gracefulCmd("run", "--", "/bin/sh", "-c", "grep SigIgn /proc/self/status")
	cmd.Args = append([]string{env, "--ignore-signal=HUP,INT"}, cmd.Args...)
	cmd.Path = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var mask uint64
	if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "SigIgn:\t%x", &mask); err != nil {
		t.Fatalf("job printed %q: %v", out, err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGINT} {
		if mask&(1<<(uint(sig)-1)) == 0 {
			t.Errorf("the job's SigIgn %016x lacks %s, which graceful was started with ignored", mask, sigName(sig))
		}
	}
	if mask&(1<<(uint(syscall.SIGTERM)-1)) != 0 {
		t.Errorf("the job's SigIgn %016x has SIGTERM, which was not ignored", mask)
	}
}

// A misspelt flag of run or join gets a did-you-mean, as validate's do.
func TestRunJoinFlagDidYouMean(t *testing.T) {
	for _, args := range [][]string{{"run", "--timout", "5s", "--", "true"}, {"join", "--sokcet", "x", "--", "true"}} {
		cmd := gracefulCmd(args...)
		out, _ := cmd.CombinedOutput()
		want := map[string]string{"run": "did you mean --timeout?", "join": "did you mean --socket?"}[args[0]]
		if cmd.ProcessState.ExitCode() != 125 || !strings.Contains(string(out), want) {
			t.Errorf("%v: exit %d, want 125 and %q:\n%s", args, cmd.ProcessState.ExitCode(), want, out)
		}
	}
}
