//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildC compiles testdata/c/NAME.c with the system's C compiler and
// returns the program's path; it skips the test where there is none.
func buildC(t *testing.T, name string) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		if cc, err = exec.LookPath("gcc"); err != nil {
			t.Skip("no C compiler (cc, gcc) to build the test program " + name)
		}
	}
	out := filepath.Join(t.TempDir(), name)
	b, err := exec.Command(cc, "-O2", "-pthread", "-o", out, filepath.Join("testdata", "c", name+".c")).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cc, err, b)
	}
	return out
}

// A churning tree (processes that ignore SIGTERM and re-fork all the
// time) makes a sweep-mode walk of the tree slow; that walk must not
// hold up the timeline. The SIGKILL step runs at +1 s and graceful exits
// soon after, not seconds later.
func TestRunChurningTreeKeepsTheTimeline(t *testing.T) {
	churn := buildC(t, "churn")
	policy, err := os.ReadFile(filepath.Join("testdata", "churn.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	h := startRun(t, string(policy), "-v", "--cgroup", "off", "--timeout", "500ms", "--", churn, "150", "10000")
	status, took := h.wait()
	if status != 124 {
		t.Errorf("status %d, want 124; stderr:\n%s", status, h.stderr())
	}
	var kill string
	for _, line := range strings.Split(h.stderr(), "\n") {
		if strings.Contains(line, "step:kill") && kill == "" {
			kill = line
		}
	}
	var at float64
	if _, err := fmt.Sscanf(strings.TrimSpace(kill), "+%fs", &at); err != nil {
		t.Fatalf("no step:kill line (%q: %v); stderr:\n%s", kill, err, h.stderr())
	}
	// Generous bounds for a loaded machine; before the walks left the
	// loop the kill ran at +5 s and graceful exited after 14 s.
	if at > 1.5 {
		t.Errorf("kill step ran at +%.3fs, due at +1s; stderr:\n%s", at, h.stderr())
	}
	if took > 6*time.Second {
		t.Errorf("graceful exited after %v; the deadline is at 2.5 s; stderr:\n%s", took, h.stderr())
	}
}

// liveThreadsOf returns the pids whose command name is comm and which
// still have a live thread (a zombie leader with live threads counts).
func liveThreadsOf(comm string) []int {
	var out []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/comm")
		if err != nil || strings.TrimSpace(string(b)) != comm {
			continue
		}
		tasks, _ := os.ReadDir("/proc/" + d.Name() + "/task")
		for _, task := range tasks {
			st, err := os.ReadFile("/proc/" + d.Name() + "/task/" + task.Name() + "/stat")
			if err != nil {
				continue
			}
			if i := strings.LastIndexByte(string(st), ')'); i > 0 && i+2 < len(st) && st[i+2] != 'Z' && st[i+2] != 'X' {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// A process whose main thread has exited while another thread lives on
// shows "Z" in /proc, yet it is alive; it escaped the job with setsid.
// graceful must kill it like any escaped descendant, in both modes.
func TestRunKillsZombieLeaderWithLiveThreads(t *testing.T) {
	zl := buildC(t, "zombieleader")
	for _, mode := range []string{"auto", "off"} {
		t.Run(mode, func(t *testing.T) {
			h := startRun(t, "", "--cgroup", mode, "--", zl, "30")
			status, took := h.wait()
			if status != 0 {
				t.Errorf("status %d; stderr:\n%s", status, h.stderr())
			}
			deadline := time.Now().Add(3 * time.Second)
			for len(liveThreadsOf("zombieleader")) > 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if left := liveThreadsOf("zombieleader"); len(left) > 0 {
				for _, pid := range left {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
				t.Fatalf("the zombie leader with a live thread survived graceful (pids %v); stderr:\n%s", left, h.stderr())
			}
			if took > 4*time.Second {
				t.Errorf("graceful took %v to clean up; stderr:\n%s", took, h.stderr())
			}
		})
	}
}
