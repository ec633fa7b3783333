//go:build linux

package process

import (
	"syscall"
	"testing"
	"time"

	"github.com/graceful-sh/graceful/engine"
)

// procState is the state letter of /proc/PID/stat ("T" when stopped).
func procState(t *testing.T, pid int) string {
	t.Helper()
	st, ok := readStat(pid)
	if !ok {
		t.Fatalf("no /proc/%d/stat", pid)
	}
	return string(st.state)
}

func waitState(t *testing.T, pid int, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for procState(t, pid) != want {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d state %s, want %s", pid, procState(t, pid), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// A forwarded signal goes alone: a job stopped on purpose stays stopped
// (dumb-init and tini forward the same way). A signal step's SIGTERM is
// followed by SIGCONT, so the stopped job acts on it.
func TestForwardDoesNotContinue(t *testing.T) {
	j := startJob(t, CgroupOff, "/bin/sh", "-c", `trap 'echo hup' HUP; trap 'echo term; exit 7' TERM; echo ready; while :; do sleep 0.01; done`)
	j.waitLines("ready", 1)
	pid := j.r.Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitState(t, pid, "T")
	var _ engine.Forwarder = j.r
	if err := j.r.Forward("SIGHUP"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if got := procState(t, pid); got != "T" {
		t.Errorf("after a forwarded SIGHUP the stopped job is %s, want still stopped (T)", got)
	}
	if err := j.r.Signal("SIGTERM", engine.ScopeGroup); err != nil {
		t.Fatal(err)
	}
	if e := j.exit(); e.Code != 7 {
		t.Errorf("exit %+v, want 7 after SIGTERM and SIGCONT", e)
	}
}

// A stop sent right after a cancelling signal, as job control sends one,
// is not undone by the SIGCONT that follows the cancelling signal. (A
// SIGCONT sent a millisecond later, out of the job's way while it reacts,
// was tried: it would have to be dropped by such a stop, and the timer
// that delays it woke the runtime's poller at the worst moment.)
func TestStopAfterCancelStaysStopped(t *testing.T) {
	for _, stop := range []string{"SIGSTOP", "SIGTSTP"} {
		t.Run(stop, func(t *testing.T) {
			j := startJob(t, CgroupOff, "/bin/sh", "-c", `trap '' TERM; echo ready; exec sleep 1000`)
			j.waitLines("ready", 1)
			pid := j.r.Pid()
			if err := j.r.Signal("SIGTERM", engine.ScopeGroup); err != nil {
				t.Fatal(err)
			}
			if err := j.r.Signal(stop, engine.ScopeGroup); err != nil {
				t.Fatal(err)
			}
			waitState(t, pid, "T")
			time.Sleep(50 * time.Millisecond)
			if got := procState(t, pid); got != "T" {
				t.Errorf("stopped right after a cancelling SIGTERM, the job is %s 50ms later, want still stopped (T)", got)
			}
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			j.exit()
		})
	}
}
