//go:build linux

package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/graceful-sh/graceful/internal/proctest"
)

// treeJob starts n descendants: half stay in the job's group, half escape
// with setsid through a double fork and ignore SIGTERM. Each prints R once
// set up; the job prints "ready" after all n.
func treeJob(n int) []string {
	return []string{"/bin/sh", "-c", fmt.Sprintf(`
i=0
while [ $i -lt %d ]; do
  if [ $((i %% 2)) -eq 0 ]; then
    sh -c 'echo R; exec sleep 1000' &
  else
    setsid sh -c 'trap "" TERM; (trap "" TERM; echo R; exec sleep 1000) & exit 0' &
  fi
  i=$((i+1))
done
while [ "$(grep -c R r.txt 2>/dev/null)" != %d ]; do sleep 0.01; done
echo ready
wait
`, n, n)}
}

var cgroupModes = []string{"on", "off"}

// skipWithoutCgroup skips a cgroup-mode test where graceful cannot create
// a cgroup v2 leaf (no hierarchy, no delegation, kernel before 5.14).
func skipWithoutCgroup(t *testing.T, mode string) {
	t.Helper()
	if mode != "on" {
		return
	}
	cmd := gracefulCmd("run", "--cgroup", "on", "--", "/bin/true")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A probe that hangs fails the test rather than the whole run.
	hung := time.AfterFunc(15*time.Second, func() { _ = cmd.Process.Kill() })
	err := cmd.Wait()
	if !hung.Stop() {
		t.Fatalf("graceful run --cgroup on -- /bin/true did not exit; stderr:\n%s", stderr.String())
	}
	if err != nil {
		t.Skipf("no cgroup v2 leaf here: %v: %s", err, stderr.String())
	}
}

// A tree of 100 descendants, half of which setsid and ignore SIGTERM: the
// SIGTERM to the group leaves the escaped half, the SIGKILL to the tree at
// the grace gets them, and nothing is left when graceful exits.
func TestRunTree(t *testing.T) {
	for _, mode := range cgroupModes {
		t.Run("cgroup "+mode, func(t *testing.T) {
			t.Parallel()
			skipWithoutCgroup(t, mode)
			const n = 100
			job := treeJob(n)
			// The children's R lines go to r.txt so the job can count them.
			job[2] = strings.Replace(job[2], "echo R", "echo R >> r.txt", 2)
			h := startRun(t, testPolicy("300ms", "5s", ""), append([]string{"--cgroup", mode, "--"}, job...)...)
			h.waitLine("ready")
			if got := proctest.LiveAtLeast(h.marker, n+1, 2*time.Second); got < n+1 {
				t.Fatalf("%d processes of the job running, want at least %d", got, n+1)
			}
			h.signalSeen(syscall.SIGTERM, 1)
			t0 := time.Now()
			h.signalSeen(syscall.SIGTERM, 2)
			status, _ := h.wait()
			if status != 128+int(syscall.SIGTERM) {
				t.Errorf("status %d, want the leader's SIGTERM death (143); stderr:\n%s", status, h.stderr())
			}
			if took := time.Since(t0); took > 3*time.Second {
				t.Errorf("graceful took %v after t0", took)
			}
			// The cleanup asserts that none of the 101 is left.
		})
	}
}

// A job forking as fast as it can while it is being killed.
func TestRunForkingJob(t *testing.T) {
	for _, mode := range cgroupModes {
		t.Run("cgroup "+mode, func(t *testing.T) {
			t.Parallel()
			skipWithoutCgroup(t, mode)
			h := startRun(t, testPolicy("300ms", "5s", ""), "--cgroup", mode, "--timeout", "200ms", "--",
				"/bin/sh", "-c", `trap "" TERM; echo ready; while :; do (trap "" TERM; sleep 1000 &); setsid sleep 1000 & done`)
			h.waitLine("ready")
			status, _ := h.wait()
			if status != 124 {
				t.Errorf("status %d, want 124 (timeout); stderr:\n%s", status, h.stderr())
			}
		})
	}
}

// A finalisation that leaves a daemon behind (setsid, double fork): it is
// killed too before graceful exits, in both modes.
func TestRunFinalizeDaemon(t *testing.T) {
	for _, mode := range cgroupModes {
		t.Run("cgroup "+mode, func(t *testing.T) {
			t.Parallel()
			skipWithoutCgroup(t, mode)
			h := startRun(t, testPolicy("300ms", "5s", `setsid sh -c '(exec sleep 1000) & exit 0'; echo finalized`), "--cgroup", mode, "--", "/bin/true")
			if status, _ := h.wait(); status != 0 {
				t.Errorf("status %d; stderr:\n%s", status, h.stderr())
			}
			if !contains(h.stdout(), "finalized") {
				t.Errorf("finalisation did not run: %q", h.stdout())
			}
		})
	}
}
