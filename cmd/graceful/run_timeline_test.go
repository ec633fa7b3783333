//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// finalizeEnv is a finalisation that records the outcome variables in
// ./final.env (the run's directory), but for the two that vary from run
// to run (the elapsed time; the receipt's temporary path, TestRunReceipt).
const finalizeEnv = "env | grep ^GRACEFUL_ | grep -v -e GRACEFUL_TEST -e GRACEFUL_ELAPSED_MS -e GRACEFUL_RECEIPT | sort > final.env"

func (h *harness) finalEnv() map[string]string {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.dir, "final.env"))
	if err != nil {
		h.t.Fatalf("finalisation did not run: %v; stderr:\n%s", err, h.stderr())
	}
	env := make(map[string]string)
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	return env
}

// The Buildkite timeline, with a 300 ms signal grace and a 1 s deadline.
func TestRunTimeline(t *testing.T) {
	t.Run("job exits on SIGTERM", func(t *testing.T) {
		t.Parallel()
		h := startRun(t, testPolicy("300ms", "5s", finalizeEnv), append([]string{"--"}, jobArgv("term-exit", "3")...)...)
		h.waitLine("ready")
		h.signalSeen(syscall.SIGTERM, 1) // drain
		h.signalSeen(syscall.SIGTERM, 2) // cancel: SIGTERM to the group
		status, _ := h.wait()
		if status != 3 {
			t.Errorf("status %d, want the job's 3; stderr:\n%s", status, h.stderr())
		}
		if !contains(h.stdout(), "got SIGTERM") {
			t.Errorf("job did not see SIGTERM: %q", h.stdout())
		}
		want := map[string]string{
			"GRACEFUL_OUTCOME": "cancelled", "GRACEFUL_EXIT_STATUS": "3", "GRACEFUL_EXIT_CODE": "3",
			"GRACEFUL_SIGNAL": "", "GRACEFUL_REASON": "signal SIGTERM #2", "GRACEFUL_PROFILE": "test",
		}
		if diff := cmp.Diff(want, h.finalEnv()); diff != "" {
			t.Errorf("finalisation environment (-want +got):\n%s", diff)
		}
	})

	t.Run("job ignores SIGTERM and is killed at the signal grace", func(t *testing.T) {
		t.Parallel()
		h := startRun(t, testPolicy("300ms", "5s", finalizeEnv), append([]string{"--"}, jobArgv("ignore-term")...)...)
		h.waitLine("ready")
		h.signalSeen(syscall.SIGINT, 1)
		t0 := time.Now()
		h.signalSeen(syscall.SIGINT, 2)
		status, _ := h.wait()
		took := time.Since(t0)
		if status != 137 {
			t.Errorf("status %d, want 137 (SIGKILL); stderr:\n%s", status, h.stderr())
		}
		if took < 250*time.Millisecond || took > 4*time.Second {
			t.Errorf("graceful exited %v after t0, want about 300ms", took)
		}
		// Finalisation ran after the kill and saw it.
		env := h.finalEnv()
		if env["GRACEFUL_SIGNAL"] != "SIGKILL" || env["GRACEFUL_EXIT_STATUS"] != "137" || env["GRACEFUL_OUTCOME"] != "cancelled" {
			t.Errorf("finalisation environment %v, want a SIGKILL (137), cancelled", env)
		}
	})

	t.Run("dead-man's switch cuts off a finalisation that hangs", func(t *testing.T) {
		t.Parallel()
		h := startRun(t, testPolicy("200ms", "700ms", "echo finalizing; exec sleep 1000"), append([]string{"--"}, jobArgv("ignore-term")...)...)
		h.waitLine("ready")
		h.signalSeen(syscall.SIGTERM, 1)
		t0 := time.Now()
		h.signalSeen(syscall.SIGTERM, 2)
		status, _ := h.wait()
		took := time.Since(t0)
		if took < 600*time.Millisecond || took > 3*time.Second {
			t.Errorf("graceful exited %v after t0, want about the 700ms deadline", took)
		}
		if !contains(h.stdout(), "finalizing") {
			t.Errorf("finalisation did not start: %q", h.stdout())
		}
		if status == 0 {
			t.Errorf("status 0 after the deadline; stderr:\n%s", h.stderr())
		}
	})

	t.Run("timeout starts cancellation", func(t *testing.T) {
		t.Parallel()
		h := startRun(t, testPolicy("300ms", "5s", ""), append([]string{"--timeout", "200ms", "--"}, jobArgv("term-exit", "0")...)...)
		status, took := h.wait()
		if status != 124 {
			t.Errorf("status %d, want 124 (timeout); stderr:\n%s", status, h.stderr())
		}
		if took < 150*time.Millisecond {
			t.Errorf("exited after %v, before the timeout", took)
		}
		if !strings.Contains(h.stderr(), "timeout") {
			t.Errorf("stderr does not mention the timeout:\n%s", h.stderr())
		}
	})
}

// 1st SIGINT drains, 2nd cancels, 3rd exits at once.
func TestRunRepeatedSIGINT(t *testing.T) {
	t.Run("first drains, the job finishes", func(t *testing.T) {
		t.Parallel()
		h := startRun(t, testPolicy("5s", "6s", ""), "--", "/bin/sh", "-c", "echo ready; sleep 0.3; echo finished; exit 5")
		h.waitLine("ready")
		h.signal(syscall.SIGINT)
		status, _ := h.wait()
		if status != 5 || !contains(h.stdout(), "finished") {
			t.Errorf("status %d, stdout %q: want the job to finish with 5; stderr:\n%s", status, h.stdout(), h.stderr())
		}
	})
	t.Run("second cancels", func(t *testing.T) {
		t.Parallel()
		h := startRun(t, testPolicy("5s", "6s", ""), append([]string{"--"}, jobArgv("term-exit", "7")...)...)
		h.waitLine("ready")
		h.signalSeen(syscall.SIGINT, 1)
		if !h.running(200 * time.Millisecond) {
			t.Fatalf("graceful exited on the first SIGINT; stderr:\n%s", h.stderr())
		}
		h.signalSeen(syscall.SIGINT, 2)
		if status, _ := h.wait(); status != 7 {
			t.Errorf("status %d, want 7; stderr:\n%s", status, h.stderr())
		}
	})
	t.Run("third exits now", func(t *testing.T) {
		t.Parallel()
		h := startRun(t, testPolicy("5s", "6s", ""), append([]string{"--"}, jobArgv("ignore-term")...)...)
		h.waitLine("ready")
		h.signalSeen(syscall.SIGINT, 1)
		h.signalSeen(syscall.SIGINT, 2)
		if !h.running(200 * time.Millisecond) {
			t.Fatalf("graceful exited on the second SIGINT; stderr:\n%s", h.stderr())
		}
		t3 := time.Now()
		h.signal(syscall.SIGINT)
		status, _ := h.wait()
		if took := time.Since(t3); took > 2*time.Second {
			t.Errorf("exited %v after the third SIGINT, want at once", took)
		}
		if status != 123 {
			t.Errorf("status %d, want 123 (abandoned); stderr:\n%s", status, h.stderr())
		}
	})
}

func TestRunSIGQUIT(t *testing.T) {
	h := startRun(t, testPolicy("300ms", "5s", ""), append([]string{"--"}, jobArgv("term-exit", "9")...)...)
	h.waitLine("ready")
	h.signal(syscall.SIGQUIT) // cancel at once
	status, _ := h.wait()
	if status != 9 || !contains(h.stdout(), "got SIGTERM") {
		t.Errorf("status %d, stdout %q: want the job's 9 after SIGTERM; stderr:\n%s", status, h.stdout(), h.stderr())
	}
	if strings.Contains(h.stderr(), "goroutine ") {
		t.Errorf("SIGQUIT printed a goroutine dump:\n%s", h.stderr())
	}
}

// A job writing as it dies: everything it wrote reaches graceful's stdout.
func TestRunOutputAsItDies(t *testing.T) {
	t.Run("flood after SIGTERM", func(t *testing.T) {
		t.Parallel()
		const n = 20000
		// The grace is long: on a loaded machine the flood can take
		// seconds, and a kill would cut it short (not a loss).
		h := startRun(t, testPolicy("60s", "61s", ""), append([]string{"--"}, jobArgv("flood-on-term", fmt.Sprint(n))...)...)
		h.waitLine("ready")
		h.signalSeen(syscall.SIGTERM, 1)
		h.signalSeen(syscall.SIGTERM, 2)
		if status, _ := h.wait(); status != 0 {
			t.Errorf("status %d, want 0 (the job exits once it has written); stderr:\n%s", status, h.stderr())
		}
		checkLines(t, h.stdout(), n)
	})
	t.Run("killed mid-write", func(t *testing.T) {
		t.Parallel()
		h := startRun(t, testPolicy("200ms", "5s", ""), append([]string{"--"}, jobArgv("count")...)...)
		h.waitLine("ready")
		h.signalSeen(syscall.SIGTERM, 1)
		h.signalSeen(syscall.SIGTERM, 2)
		if status, _ := h.wait(); status != 137 {
			t.Errorf("status %d, want 137", status)
		}
		checkLines(t, h.stdout(), -1)
	})
}

// checkLines checks stdout is "ready" then "line 0", "line 1", ... with no
// gap (n lines when n >= 0; a last partial line is allowed when killed).
func checkLines(t *testing.T, out []string, n int) {
	t.Helper()
	if len(out) == 0 || out[0] != "ready" {
		t.Fatalf("stdout starts %q", out[:min(len(out), 3)])
	}
	lines := out[1:]
	for i, l := range lines {
		if l != fmt.Sprintf("line %d", i) && !(n < 0 && i == len(lines)-1) {
			t.Fatalf("line %d is %q: output lost or reordered", i, l)
		}
	}
	if n >= 0 && len(lines) != n {
		t.Errorf("%d lines, want %d", len(lines), n)
	}
	if n < 0 && len(lines) < 10 {
		t.Errorf("only %d lines before the kill", len(lines))
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// --events writes every event as a JSON line, the last one with the
// outcome and status.
func TestRunEventsFile(t *testing.T) {
	events := filepath.Join(t.TempDir(), "events.jsonl")
	h := startRun(t, testPolicy("300ms", "5s", ""), append([]string{"--events", events, "--"}, jobArgv("term-exit", "4")...)...)
	h.waitLine("ready")
	h.signalSeen(syscall.SIGTERM, 1)
	h.signalSeen(syscall.SIGTERM, 2)
	if status, _ := h.wait(); status != 4 {
		t.Fatalf("status %d; stderr:\n%s", status, h.stderr())
	}
	b, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var last map[string]any
	for i, l := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %d is not JSON: %v: %q", i+1, err, l)
		}
		last = ev
	}
	if len(lines) < 4 || last["to"] != "done" || last["outcome"] != "cancelled" || last["status"] != float64(4) {
		t.Errorf("%d events, last %v: want at least start, drain, cancel, done with outcome cancelled and status 4", len(lines), last)
	}
}
