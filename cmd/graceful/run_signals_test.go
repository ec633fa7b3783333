//go:build linux

package main

import (
	"strings"
	"syscall"
	"testing"
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
