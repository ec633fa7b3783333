//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGTTIN or SIGTTOU sent to graceful stop the job and graceful, as Ctrl-Z
// does, and SIGCONT resumes both; before, they stopped graceful alone and
// the job ran on unsupervised.
func TestRunTTINAndTTOUStopBoth(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTTIN, syscall.SIGTTOU} {
		t.Run(sigName(sig), func(t *testing.T) {
			h := startRun(t, testPolicy("300ms", "5s", ""), append([]string{"--"}, jobArgv("term-exit", "5")...)...)
			h.waitLine("ready")
			job := childOf(t, h.cmd.pid)
			h.signal(sig)
			waitState(t, job, 'T')
			waitState(t, h.cmd.pid, 'T')
			if err := syscall.Kill(h.cmd.pid, syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			waitState(t, job, 'S')
			waitState(t, h.cmd.pid, 'S')
			h.signal(syscall.SIGQUIT) // cancel: SIGTERM to the job
			if status, _ := h.wait(); status != 5 {
				t.Errorf("status %d, want the job's 5; stderr:\n%s", status, h.stderr())
			}
		})
	}
}

// Not on a terminal, the first SIGTERM under a draining profile says what
// the next one will do; -v names the profile in use and where it is from.
func TestRunSaysWhatTheNextSignalDoes(t *testing.T) {
	h := startRun(t, "", append([]string{"-v", "--"}, jobArgv("term-exit", "4")...)...)
	h.waitLine("ready")
	h.signal(syscall.SIGTERM)
	h.waitStderr("graceful: draining: the job may finish; send SIGTERM again to cancel")
	h.signal(syscall.SIGTERM)
	if status, _ := h.wait(); status != 4 {
		t.Errorf("status %d, want 4; stderr:\n%s", status, h.stderr())
	}
	if !strings.Contains(h.stderr(), `graceful: profile "process" (built in)`) {
		t.Errorf("-v does not name the profile:\n%s", h.stderr())
	}
}

// graceful raises its own threads' priority (nice -5) so that its steps
// run on time when the job keeps every core busy, once the steps are
// near: not while the job just runs (the raise would slow the job's own
// reaction to the first cancelling signal), from the cancel on. Nothing
// it starts inherits that: the job and the finalisation run at nice 0.
func TestRunPriorityIsGracefulsOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("raising the priority needs CAP_SYS_NICE")
	}
	if out, _ := exec.Command("sh", "-c", "cut -d' ' -f19 /proc/self/stat").Output(); strings.TrimSpace(string(out)) != "0" {
		t.Skip("the test does not run at nice 0")
	}
	h := startRun(t, testPolicy("3s", "5s", "cut -d' ' -f19 /proc/self/stat > fin.nice"),
		"--", "/bin/sh", "-c", "trap '' TERM; echo ready; sleep 1; cut -d' ' -f19 /proc/self/stat")
	h.waitLine("ready")
	nice := func() string {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", h.cmd.pid))
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			return "gone"
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 17 {
			return "?"
		}
		return f[16]
	}
	time.Sleep(400 * time.Millisecond) // past the settling at 200 ms
	if n := nice(); n != "0" {
		t.Errorf("graceful's nice %s before any cancel, want 0", n)
	}
	h.signal(syscall.SIGQUIT) // the test profile's cancel at once
	for end := time.Now().Add(3 * time.Second); nice() != "-5" && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
	if n := nice(); n != "-5" {
		t.Errorf("graceful's nice %s after the cancel, want -5", n)
	}
	if status, _ := h.wait(); status != 0 {
		t.Fatalf("status %d; stderr:\n%s", status, h.stderr())
	}
	if out := h.stdout(); len(out) < 2 || out[1] != "0" {
		t.Errorf("the job's child ran at nice %q, want 0", out)
	}
	if b, err := os.ReadFile(filepath.Join(h.dir, "fin.nice")); err != nil || strings.TrimSpace(string(b)) != "0" {
		t.Errorf("the finalisation ran at nice %q (%v), want 0", b, err)
	}
}
