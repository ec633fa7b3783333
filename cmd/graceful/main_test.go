//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/graceful-sh/graceful/engine/process"
)

// TestMain is the only TestMain of package main. The test binary doubles as
// graceful itself and as the jobs graceful runs (the os/exec helper-child
// pattern), so tests use real processes without shell scripts or a
// separately built binary:
//
//   - GRACEFUL_TEST_HELPER unset: run the tests.
//   - GRACEFUL_TEST_HELPER set and os.Args[1] == "job": be a test job
//     (testJob below).
//   - GRACEFUL_TEST_HELPER set otherwise: be graceful with os.Args[1:].
//
// gracefulCmd and jobArgv build such commands for any test of the package.
func TestMain(m *testing.M) {
	if os.Getenv("GRACEFUL_TEST_HELPER") == "" {
		os.Exit(m.Run())
	}
	if guard, ok := guardian(os.Args); ok {
		os.Exit(guard())
	}
	if len(os.Args) > 1 && os.Args[1] == "job" {
		os.Exit(testJob(os.Args[2:]))
	}
	os.Exit(run(context.Background(), os.Args[1:]))
}

// gracefulCmd returns a command that runs the test binary as graceful with
// args.
func gracefulCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "GRACEFUL_TEST_HELPER=1")
	if os.Getenv("GORACE") == "" {
		// A -race binary sleeps 1 s at exit by default; graceful and
		// its jobs are such binaries here.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	return cmd
}

// jobArgv is the argv of a test job (see testJob): the test binary in job
// mode. It only works under a command from gracefulCmd, whose environment
// the job inherits.
func jobArgv(args ...string) []string {
	return append([]string{os.Args[0], "job"}, args...)
}

// testJob is the job side of the helper. Jobs print "ready" on stdout once
// set up, so tests can wait for it.
//
//	exit N            exit with status N
//	die SIG           die of signal SIG (no Go goroutine dump for SIGQUIT)
//	term-exit N       print "got SIGINT" on SIGINT; on SIGTERM print "got SIGTERM", exit N
//	read-line         read a line from stdin, print "read: LINE", exit 0
//	ignore-term       ignore SIGTERM, run until killed
//	flood-on-term N   on SIGTERM print N numbered lines, then exit 0
//	count             print numbered lines until killed
func testJob(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "job: no mode")
		return 2
	}
	arg := func(i int) int {
		n, _ := strconv.Atoi(args[i])
		return n
	}
	switch args[0] {
	case "exit":
		return arg(1)
	case "die":
		sig, err := process.SignalNumber(args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		process.Reraise(sig)
		return 2
	case "term-exit":
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
		fmt.Println("ready")
		for s := range ch {
			fmt.Println("got " + process.SignalName(s.(syscall.Signal)))
			if s == syscall.SIGTERM {
				break
			}
		}
		return arg(1)
	case "read-line":
		fmt.Println("ready")
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil {
			fmt.Println("read error:", err)
			return 1
		}
		fmt.Println("read: " + strings.TrimSpace(line))
		return 0
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		for {
			time.Sleep(time.Hour)
		}
	case "flood-on-term":
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM)
		fmt.Println("ready")
		<-ch
		for i := 0; i < arg(1); i++ {
			fmt.Printf("line %d\n", i)
		}
		return 0
	case "count":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		for i := 0; ; i++ {
			fmt.Printf("line %d\n", i)
		}
	}
	fmt.Fprintln(os.Stderr, "job: unknown mode", args[0])
	return 2
}

// Signals the profile does not name and the Go runtime would not die of
// (SIGUSR1, SIGUSR2, SIGALRM) are ignored from the start: graceful
// catches them (to log them) only a few milliseconds into the run, and
// one arriving before must not harm graceful or reach the job.
func TestRunUnnamedSignalsIgnored(t *testing.T) {
	h := startRun(t, testPolicy("300ms", "5s", ""), append([]string{"--"}, jobArgv("term-exit", "5")...)...)
	// Once the Go runtime has its handlers (SigCgt shows SIGUSR1), which
	// is before run begins, and so most likely before the late catch.
	deadline := time.Now().Add(10 * time.Second)
	for !caughtBy(h.cmd.pid, syscall.SIGUSR1) {
		if time.Now().After(deadline) {
			t.Fatal("graceful never caught SIGUSR1")
		}
		time.Sleep(100 * time.Microsecond)
	}
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM} {
		h.signal(sig)
	}
	h.waitLine("ready")
	h.waitLateCatch(deadline) // later ones are logged
	h.signal(syscall.SIGQUIT) // cancel: SIGTERM to the job
	if status, _ := h.wait(); status != 5 {
		t.Errorf("status %d, want the job's 5; stderr:\n%s", status, h.stderr())
	}
	if out := h.stdout(); len(out) != 2 || out[1] != "got SIGTERM" {
		t.Errorf("the job saw %q, want only SIGTERM", out)
	}
}

// The fault signals, sent with kill once graceful has caught them late,
// are logged and ignored: no goroutine dump, no exit 2, and the job runs
// on to its own end.
func TestRunFaultSignalsFromUserIgnored(t *testing.T) {
	h := startRun(t, testPolicy("300ms", "5s", ""), append([]string{"--"}, jobArgv("term-exit", "5")...)...)
	h.waitLine("ready")
	h.waitLateCatch(time.Now().Add(10 * time.Second))
	faults := []syscall.Signal{syscall.SIGILL, syscall.SIGTRAP, syscall.SIGABRT, syscall.SIGBUS,
		syscall.SIGFPE, syscall.SIGSEGV, syscall.SIGSTKFLT, syscall.SIGSYS}
	for _, sig := range faults {
		h.signal(sig)
		h.waitStderr("ignored: no trigger for " + sigName(sig))
	}
	h.signal(syscall.SIGQUIT) // cancel: SIGTERM to the job
	if status, _ := h.wait(); status != 5 {
		t.Errorf("status %d, want the job's 5; stderr:\n%s", status, h.stderr())
	}
	if strings.Contains(h.stderr(), "goroutine ") {
		t.Errorf("graceful dumped its goroutines; stderr:\n%s", h.stderr())
	}
}

// A fault signal sent with kill the moment the job starts (before, within
// graceful's first 5 ms, it ended graceful with a goroutine dump and exit
// 2, 3 runs of 3, and left the job running) is logged and ignored like a
// later one: the job runs to its end and graceful exits with its status.
func TestRunFaultSignalAtOnce(t *testing.T) {
	for i := range 3 {
		cmd := gracefulCmd("run", "--", "/bin/sh", "-c", `kill -SEGV $PPID; echo sent; sleep 0.3; echo alive; exit 7`)
		out, _ := cmd.CombinedOutput()
		code := cmd.ProcessState.ExitCode()
		if code != 7 || !strings.Contains(string(out), "alive") || strings.Contains(string(out), "goroutine ") {
			t.Errorf("run %d: exit %d, want the job's 7 and no goroutine dump; output:\n%s", i, code, tail(string(out), 2000))
		}
	}
}

// waitLateCatch waits, sending SIGUSR2 until graceful logs it, for the
// late catch (lateSignals) to have run.
func (h *harness) waitLateCatch(deadline time.Time) {
	h.t.Helper()
	for !strings.Contains(h.stderr(), "ignored: no trigger for SIGUSR2") {
		if time.Now().After(deadline) {
			h.t.Fatalf("SIGUSR2 never logged as ignored; stderr:\n%s", h.stderr())
		}
		h.signal(syscall.SIGUSR2)
		time.Sleep(20 * time.Millisecond)
	}
}

// caughtBy reports whether /proc/PID/status lists sig as caught.
func caughtBy(pid int, sig syscall.Signal) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if hex, ok := strings.CutPrefix(line, "SigCgt:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			return err == nil && mask&(1<<(uint(sig)-1)) != 0
		}
	}
	return false
}

// Orphans of the job that die at once, before graceful's reaper has
// caught SIGCHLD, are reaped all the same (graceful is their subreaper).
func TestRunReapsEarlyOrphans(t *testing.T) {
	for _, mode := range []string{"auto", "off"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			script := `for i in 1 2 3 4 5; do (true &); done
sleep 0.5
echo "zombies $(awk -v p=$PPID '$4 == p && $3 == "Z"' /proc/[0-9]*/stat | wc -l)"`
			h := startRun(t, "", "--cgroup", mode, "--", "/bin/sh", "-c", script)
			if status, _ := h.wait(); status != 0 {
				t.Fatalf("status %d; stderr:\n%s", status, h.stderr())
			}
			if out := h.stdout(); !contains(out, "zombies 0") {
				t.Errorf("orphans left as zombies of graceful: %q", out)
			}
		})
	}
}
