//go:build linux

package kubernetes

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/internal/proctest"
)

// TestMain lets the test binary be every program of a pod (the os/exec
// helper-child pattern): with GK_HELPER set it runs as the coordinator, as
// join, or as a job, instead of running the tests.
//
//	GK_HELPER=coordinator  RunCoordinator with testCoordinatorProfile;
//	                       GK_SOCKET, GK_JOBS (names, comma-separated) or
//	                       GK_COUNT, GK_PARALLEL, GK_START_TIMEOUT,
//	                       GK_FINAL (file the finalisation appends to).
//	GK_HELPER=join         RunJoin with testJoinProfile; GK_SOCKET, GK_NAME,
//	                       GRACEFUL_TOKEN; the job's argv follows.
//	GK_HELPER=job          a job; see testJob.
//	GK_HELPER=peer         Join (GK_SOCKET, GK_NAME, GRACEFUL_TOKEN,
//	                       GK_PEER_UIDS: comma-separated), report exit 0;
//	                       for a join running as another uid.
func TestMain(m *testing.M) {
	switch os.Getenv("GK_HELPER") {
	case "":
		os.Exit(m.Run())
	case "coordinator":
		os.Exit(helperCoordinator())
	case "join":
		os.Exit(helperJoin(os.Args[1:]))
	case "job":
		os.Exit(testJob(os.Args[1:]))
	case "peer":
		os.Exit(helperPeer())
	}
	fmt.Fprintln(os.Stderr, "unknown GK_HELPER")
	os.Exit(2)
}

// Short timelines so that the suite is quick. The pod's grace period in
// these tests is testGrace.
const testGrace = 2 * time.Second

func testCoordinatorProfile(final string) *engine.Profile {
	p := &engine.Profile{
		Name:   "test-kubernetes",
		Runner: engine.RunnerKubernetes,
		Budget: testGrace,
		Triggers: map[string][]engine.Action{
			"SIGTERM": {engine.ActionCancel, engine.ActionExit},
			"SIGINT":  {engine.ActionCancel, engine.ActionExit},
		},
		Steps: []engine.Step{
			{Name: "interrupt", At: 0, Kind: engine.StepNotify, Notify: "interrupt"},
			{Name: "abandon", At: 1500 * time.Millisecond, Kind: engine.StepAbandon},
		},
		Deadline: 1800 * time.Millisecond,
	}
	if final != "" {
		p.Finalize = &engine.Finalize{Command: []string{"env", "GK_HELPER=job", os.Args[0], "finalize", final}, Timeout: 5 * time.Second}
	}
	return p
}

func testJoinProfile() *engine.Profile {
	// GK_JOIN_KILL_AT moves the SIGKILL step (and the deadline after it)
	// past the coordinator's abandon step, for the abandon test.
	killAt := envDuration("GK_JOIN_KILL_AT", time.Second)
	return &engine.Profile{
		Name:   "test-process",
		Runner: engine.RunnerProcess,
		Triggers: map[string][]engine.Action{
			"SIGTERM": {engine.ActionDrain, engine.ActionCancel, engine.ActionExit},
		},
		Steps: []engine.Step{
			{Name: "interrupt", At: 0, Kind: engine.StepSignal, Signal: "SIGTERM", Scope: engine.ScopeGroup},
			{Name: "terminate", At: killAt, Kind: engine.StepSignal, Signal: "SIGKILL", Scope: engine.ScopeTree},
		},
		Deadline: killAt + 200*time.Millisecond,
	}
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

func helperCoordinator() int {
	cfg := Config{
		Socket:       os.Getenv("GK_SOCKET"),
		Token:        os.Getenv("GRACEFUL_TOKEN"),
		Parallel:     os.Getenv("GK_PARALLEL") != "",
		StartTimeout: envDuration("GK_START_TIMEOUT", 10*time.Second),
		// The production window (3s) unless a test is about liveness:
		// a shorter one only adds false losses when the machine is busy.
		Interval: envDuration("GK_INTERVAL", DefaultInterval),
	}
	if j := os.Getenv("GK_JOBS"); j != "" {
		cfg.Jobs = strings.Split(j, ",")
	}
	cfg.Count, _ = strconv.Atoi(os.Getenv("GK_COUNT"))
	res, err := RunCoordinator(context.Background(), CoordinatorRun{
		Coordinator: cfg,
		Profile:     testCoordinatorProfile(os.Getenv("GK_FINAL")),
		Sinks: []engine.Sink{engine.SinkFunc(func(e engine.Event) {
			fmt.Fprintf(os.Stderr, "event %v %s -> %s %s %s %s\n", e.Since, e.From, e.To, e.Cause, e.Action, e.Result)
		})},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "coordinator: %v\n", err)
		return engine.ExitInternal
	}
	fmt.Fprintf(os.Stderr, "RESULT outcome=%s status=%d\n", res.Outcome, res.Status)
	return res.Status
}

func helperPeer() int {
	var uids []int
	for _, f := range strings.Split(os.Getenv("GK_PEER_UIDS"), ",") {
		if u, err := strconv.Atoi(f); err == nil {
			uids = append(uids, u)
		}
	}
	ctx := context.Background()
	s, err := Join(ctx, ClientConfig{Socket: os.Getenv("GK_SOCKET"), Token: os.Getenv("GRACEFUL_TOKEN"), Name: os.Getenv("GK_NAME"), PeerUIDs: uids, StartTimeout: 3 * time.Second})
	if err != nil {
		fmt.Fprintf(os.Stderr, "join as uid %d: %v\n", os.Getuid(), err)
		return 1
	}
	defer s.Close()
	if ok, err := s.WaitTurn(ctx); !ok || err != nil {
		fmt.Fprintf(os.Stderr, "no turn: %v\n", err)
		return 1
	}
	if err := s.ReportExit(ctx, engine.Exit{}); err != nil {
		fmt.Fprintf(os.Stderr, "report: %v\n", err)
		return 1
	}
	return 0
}

func helperJoin(args []string) int {
	status, err := RunJoin(context.Background(), JoinRun{
		Client: ClientConfig{
			Socket:       os.Getenv("GK_SOCKET"),
			Token:        os.Getenv("GRACEFUL_TOKEN"),
			Name:         os.Getenv("GK_NAME"),
			StartTimeout: envDuration("GK_START_TIMEOUT", 10*time.Second),
		},
		Profile: testJoinProfile(),
		Args:    args,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "join: %v\n", err)
	}
	return status
}

// testJob is the job of a job container.
//
//	trap FILE CODE   print "ready"; append "SIGTERM <monotonic ns>" to FILE
//	                 on every SIGTERM; after the first, finalise for 100ms,
//	                 append "finalised" and exit CODE
//	exit FILE CODE   append "ran" to FILE and exit CODE at once
//	env FILE         append "token=$GRACEFUL_TOKEN" to FILE, exit 0
//	oom FILE         append "oom_score_adj N" (its own) to FILE, exit 0
//	hang             ignore SIGTERM and sleep until killed
//	finalize FILE    the coordinator's finalisation: append "finalised"
func testJob(args []string) int {
	appendLine := func(file, line string) {
		f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Fprintln(f, line)
		f.Close()
	}
	switch args[0] {
	case "trap":
		file := args[1]
		code, _ := strconv.Atoi(args[2])
		sigs := make(chan os.Signal, 8)
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
			syscall.SIGUSR1, syscall.SIGWINCH, syscall.SIGURG)
		appendLine(file, "ready")
		fmt.Println("ready")
		finalised := make(chan struct{})
		started := false
		for {
			select {
			case s := <-sigs:
				if s == syscall.SIGURG { // the Go runtime's own preemption signal
					continue
				}
				appendLine(file, fmt.Sprintf("%s %d", s, monotonic()))
				if s == syscall.SIGTERM && !started {
					started = true
					time.AfterFunc(100*time.Millisecond, func() { close(finalised) })
				}
			case <-finalised:
				appendLine(file, "finalised")
				fmt.Println("finalised")
				return code
			}
		}
	case "exit":
		appendLine(args[1], "ran "+os.Getenv("GK_NAME"))
		fmt.Println("hello from", os.Getenv("GK_NAME"))
		code, _ := strconv.Atoi(args[2])
		return code
	case "env":
		appendLine(args[1], "token="+os.Getenv("GRACEFUL_TOKEN"))
		return 0
	case "oom":
		b, _ := os.ReadFile("/proc/self/oom_score_adj")
		appendLine(args[1], "oom_score_adj "+strings.TrimSpace(string(b)))
		return 0
	case "hang":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		time.Sleep(time.Hour)
		return 0
	case "finalize":
		appendLine(args[1], "coordinator finalised "+os.Getenv("GRACEFUL_OUTCOME"))
		return 0
	}
	return 2
}

func monotonic() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

var canUnshare = func() bool {
	if os.Getuid() != 0 {
		return false
	}
	return exec.Command("unshare", "--pid", "--fork", "--mount-proc", "true").Run() == nil
}()

// container is one container of the simulated pod: a helper started, when
// the machine allows it, in a PID namespace of its own, as the kubelet's
// runtime would.
type container struct {
	name   string
	cmd    *exec.Cmd
	out    syncBuffer
	init   int // the container's first process, as the kubelet sees it
	exited chan struct{}
	err    error
	at     time.Time // when it exited
}

type pod struct {
	t      testing.TB
	dir    string
	socket string
	marker string
	env    []string
	list   []*container
}

func newPod(t testing.TB) *pod {
	dir, err := os.MkdirTemp("/tmp", "gkpod")
	if err != nil {
		t.Fatal(err)
	}
	p := &pod{t: t, dir: dir, socket: filepath.Join(dir, "sock"), marker: fmt.Sprintf("GK_RUN=%d-%d", os.Getpid(), time.Now().UnixNano())}
	p.env = []string{p.marker, "GK_SOCKET=" + p.socket, "GRACEFUL_TOKEN=" + testToken}
	t.Cleanup(func() {
		for _, c := range p.list {
			syscall.Kill(c.init, syscall.SIGKILL)
			c.cmd.Process.Kill()
			<-c.exited
		}
		proctest.AssertNoneLeft(t, p.marker, 3*time.Second)
		os.RemoveAll(dir)
	})
	return p
}

// start runs a helper as a container. env adds to the pod's environment.
func (p *pod) start(name string, env []string, args ...string) *container {
	p.t.Helper()
	var cmd *exec.Cmd
	if canUnshare {
		cmd = exec.Command("unshare", append([]string{"--pid", "--fork", "--mount-proc", "--kill-child", os.Args[0]}, args...)...)
	} else {
		cmd = exec.Command(os.Args[0], args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	cmd.Env = append(append(os.Environ(), p.env...), env...)
	c := &container{name: name, cmd: cmd, exited: make(chan struct{})}
	cmd.Stdout = &c.out
	cmd.Stderr = &c.out
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", name, err)
	}
	c.init = cmd.Process.Pid
	if canUnshare {
		c.init = p.childOf(cmd.Process.Pid)
	}
	go func() {
		c.err = cmd.Wait()
		c.at = time.Now()
		close(c.exited)
	}()
	p.list = append(p.list, c)
	return c
}

// childOf waits for unshare's forked child, the namespace's PID 1.
func (p *pod) childOf(pid int) int {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		if f := strings.Fields(string(b)); len(f) > 0 {
			n, _ := strconv.Atoi(f[0])
			return n
		}
		time.Sleep(time.Millisecond)
	}
	p.t.Fatalf("unshare %d never forked", pid)
	return 0
}

func (p *pod) coordinator(env ...string) *container {
	return p.start("coordinator", append([]string{"GK_HELPER=coordinator"}, env...))
}

func (p *pod) join(name string, env []string, job ...string) *container {
	return p.start(name, append([]string{"GK_HELPER=join", "GK_NAME=" + name}, env...), job...)
}

// jobArgv is the argv of a test job, run by join.
func jobArgv(args ...string) []string {
	return append([]string{"env", "GK_HELPER=job", os.Args[0]}, args...)
}

// wait waits for c to exit, failing after d.
func (c *container) wait(t testing.TB, d time.Duration) int {
	t.Helper()
	select {
	case <-c.exited:
	case <-time.After(d):
		t.Fatalf("%s still running after %v; output:\n%s", c.name, d, c.out.String())
	}
	if c.err == nil {
		return 0
	}
	if ee, ok := c.err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	t.Fatalf("%s: %v", c.name, c.err)
	return -1
}

// waitFile waits until file holds a line starting with prefix.
func waitFile(t testing.TB, file, prefix string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(file)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, prefix) {
				return
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	b, _ := os.ReadFile(file)
	t.Fatalf("%s never got %q: %q", file, prefix, b)
}

func lines(file string) []string {
	b, _ := os.ReadFile(file)
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
