//go:build linux

package resident

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
)

// TestMain runs the helper child of TestTrimLeavesATracedProcessAlone.
func TestMain(m *testing.M) {
	if os.Getenv("RESIDENT_TEST_CHILD") == "trim" {
		before := rssFileOf()
		Trim()
		fmt.Printf("%d %d\n", before, rssFileOf())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// rssFileOf is this process's file-backed resident set in KiB, -1 when
// /proc does not say.
func rssFileOf() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(statusField(string(b), "RssFile"))
	if err != nil {
		return -1
	}
	return n
}

func TestTrimmable(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if !trimmable(exe) {
		t.Errorf("the test binary (a plain Go executable) is not trimmable")
	}
	if trimmable("/nonexistent") {
		t.Error("a missing file is trimmable")
	}
	// A position-independent executable, if the toolchain can build one
	// here, must be left alone (its RELRO pages hold relocations).
	if testing.Short() {
		return
	}
	pie := filepath.Join(t.TempDir(), "pie")
	src := filepath.Join(t.TempDir(), "main.go")
	os.WriteFile(src, []byte("package main\nfunc main() {}\n"), 0o600)
	if out, err := exec.Command("go", "build", "-buildmode=pie", "-o", pie, src).CombinedOutput(); err != nil {
		t.Skipf("cannot build a PIE here: %v\n%s", err, out)
	}
	if trimmable(pie) {
		t.Error("a PIE is trimmable")
	}
}

// rssFile is this process's file-backed resident set, in KiB.
func rssFile(t *testing.T) int {
	t.Helper()
	n := rssFileOf()
	if n < 0 {
		t.Skip("no RssFile in /proc/self/status")
	}
	return n
}

func TestTrimDropsExecutablePages(t *testing.T) {
	exe, err := os.Executable()
	if err != nil || !trimmable(exe) {
		t.Skip("test binary not trimmable")
	}
	before := rssFile(t)
	Trim()
	after := rssFile(t)
	if after >= before {
		t.Errorf("RssFile %d KiB before Trim, %d KiB after: nothing dropped", before, after)
	}
	// The program goes on working: the dropped pages fault back in.
	if got := strconv.Itoa(42); got != "42" {
		t.Errorf("after Trim, strconv.Itoa(42) = %q", got)
	}
}

func TestTracerPid(t *testing.T) {
	for _, tc := range []struct {
		status string
		want   int
	}{
		{"Name:\tx\nState:\tS (sleeping)\nTracerPid:\t0\nUid:\t0\n", 0},
		{"Name:\tx\nTracerPid:\t4711\nUid:\t0\n", 4711},
		{"Name:\tx\n", 0},
		{"TracerPid:\n", 0},
	} {
		if got := tracerPid(tc.status); got != tc.want {
			t.Errorf("tracerPid(%q) = %d, want %d", tc.status, got, tc.want)
		}
	}
}

// A process with a debugger attached keeps its pages (and the debugger's
// breakpoints in them): the helper child, traced from its exec on, trims
// nothing; untraced, it drops its executable's pages.
func TestTrimLeavesATracedProcessAlone(t *testing.T) {
	exe, err := os.Executable()
	if err != nil || !trimmable(exe) {
		t.Skip("test binary not trimmable")
	}
	run := func(trace bool) (before, after int) {
		runtime.LockOSThread() // ptrace requests come from the tracer's thread
		defer runtime.UnlockOSThread()
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), "RESIDENT_TEST_CHILD=trim")
		cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: trace}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Skipf("cannot start a traced child here: %v", err)
		}
		pid := cmd.Process.Pid
		if trace {
			// Resume each stop (the exec's, then the runtime's signals,
			// passed on) until the child exits.
			for {
				var ws syscall.WaitStatus
				if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
					t.Fatalf("wait4: %v", err)
				}
				if ws.Exited() || ws.Signaled() {
					break
				}
				sig := 0
				if ws.Stopped() && ws.StopSignal() != syscall.SIGTRAP {
					sig = int(ws.StopSignal())
				}
				if err := syscall.PtraceCont(pid, sig); err != nil {
					t.Fatalf("PTRACE_CONT: %v", err)
				}
			}
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		_ = cmd.Wait() // closes the pipe (a traced child is reaped above)
		if _, err := fmt.Sscan(line, &before, &after); err != nil || before < 0 {
			t.Skipf("the child said %q", line)
		}
		return before, after
	}
	if before, after := run(true); after < before {
		t.Errorf("traced, the child's RssFile went from %d to %d KiB: Trim dropped pages under a debugger", before, after)
	}
	if before, after := run(false); after >= before {
		t.Errorf("untraced, the child's RssFile went from %d to %d KiB: Trim dropped nothing", before, after)
	}
}
