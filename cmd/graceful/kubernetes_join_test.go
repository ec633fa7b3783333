//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/kubernetes"
	"github.com/graceful-sh/graceful/internal/proctest"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// `graceful join` against an in-process coordinator: it waits for the token
// file the coordinator writes, swallows its own SIGTERM, and signals the job
// only when the coordinator says interrupt.
func TestJoinCommand(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "gkjoin")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	socket := filepath.Join(dir, "socket")
	marker := "GK_JOIN_TEST=" + dir

	// join starts first, as a job container may: no socket, no token yet.
	cmd := gracefulCmd(append([]string{"join", "--socket", socket, "--name", "build", "--start-timeout", "20s", "--"},
		jobArgv("term-exit", "7")...)...)
	cmd.Env = append(cmd.Env, marker)
	var joinOut lockedBuffer
	cmd.Stdout, cmd.Stderr = &joinOut, &joinOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		proctest.AssertNoneLeft(t, marker, 2*time.Second)
	}()
	waited := make(chan int, 1)
	go func() {
		cmd.Wait()
		waited <- cmd.ProcessState.ExitCode()
	}()

	token, err := kubernetes.EnsureToken(filepath.Join(dir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	c, err := kubernetes.Listen(kubernetes.Config{Socket: socket, Token: token, Jobs: []string{"build"}, Output: &out, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	waitFor(t, func() bool { return strings.Contains(out.String(), "[build] ready\n") })
	// The kubelet's SIGTERM to join: ignored, the job keeps running.
	cmd.Process.Signal(syscall.SIGTERM)
	waitFor(t, func() bool { return strings.Contains(joinOut.String(), "ignoring SIGTERM") })
	if strings.Contains(out.String(), "got SIGTERM") {
		t.Fatal("the job got the SIGTERM meant for join")
	}
	if err := c.Notify("interrupt"); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-c.Done():
		if e.Status() != 7 {
			t.Errorf("coordinator's Done = %+v, want the job's 7", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no exit report; join output:\n%s", joinOut.String())
	}
	select {
	case code := <-waited:
		if code != 7 {
			t.Errorf("join exited %d, want 7:\n%s", code, joinOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("join did not exit:\n%s", joinOut.String())
	}
	if n := strings.Count(out.String(), "[build] got SIGTERM\n"); n != 1 {
		t.Errorf("job got SIGTERM %d times, want once; coordinator output:\n%s", n, out.String())
	}
	if st := c.Statuses(); st[0].State != kubernetes.StateExited || st[0].Exit != (engine.Exit{Code: 7}) {
		t.Errorf("status %+v", st[0])
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
	}
}

// `graceful run --profile kubernetes` and `graceful join` end to end, as
// the kubelet stops the pod: SIGTERM to both at once.
func TestCoordinatorCommand(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "gkrun")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	socket := filepath.Join(dir, "socket")
	marker := "GK_RUN_TEST=" + dir
	start := func(args ...string) (*execCmd, *lockedBuffer) {
		cmd := gracefulCmd(args...)
		cmd.Env = append(cmd.Env, marker)
		var out lockedBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		e := &execCmd{cmd: cmd, done: make(chan struct{})}
		go func() { cmd.Wait(); close(e.done) }()
		return e, &out
	}
	defer proctest.AssertNoneLeft(t, marker, 2*time.Second)
	podReceipt := filepath.Join(dir, "pod.json")
	coord, coordOut := start("run", "--profile", "kubernetes", "--socket", socket, "--job", "build", "--start-timeout", "20s", "--receipt", podReceipt)
	defer coord.cmd.Process.Kill()
	select {
	case <-coord.done:
		t.Fatalf("coordinator exited at once:\n%s", coordOut.String())
	case <-time.After(200 * time.Millisecond):
	}
	join, joinOut := start(append([]string{"join", "--socket", socket, "--name", "build", "--"}, jobArgv("term-exit", "7")...)...)
	defer join.cmd.Process.Kill()
	waitFor(t, func() bool { return strings.Contains(coordOut.String(), "[build] ready\n") })
	coord.cmd.Process.Signal(syscall.SIGTERM)
	join.cmd.Process.Signal(syscall.SIGTERM)
	for _, e := range []*execCmd{coord, join} {
		select {
		case <-e.done:
		case <-time.After(10 * time.Second):
			t.Fatalf("still running; coordinator:\n%s\njoin:\n%s", coordOut.String(), joinOut.String())
		}
	}
	if c, j := coord.cmd.ProcessState.ExitCode(), join.cmd.ProcessState.ExitCode(); c != 7 || j != 7 {
		t.Errorf("exit statuses: coordinator %d, join %d; want 7 and 7\ncoordinator:\n%s\njoin:\n%s", c, j, coordOut.String(), joinOut.String())
	}
	if n := strings.Count(coordOut.String(), "[build] got SIGTERM\n"); n != 1 {
		t.Errorf("job got SIGTERM %d times, want once:\n%s", n, coordOut.String())
	}
	// The pod's receipt: the coordinator's timeline and each container
	// with the receipt its join reported.
	m := checkReceipt(t, compileSchema(t, "receipt.schema.json"), podReceipt)
	cs, _ := m["containers"].([]any)
	if len(cs) != 1 {
		t.Fatalf("receipt containers %v, want build", m["containers"])
	}
	c, _ := cs[0].(map[string]any)
	jr, _ := c["receipt"].(map[string]any)
	if c["name"] != "build" || c["state"] != "exited" || c["status"] != float64(7) || jr["outcome"] != "cancelled" || jr["status"] != float64(7) {
		t.Errorf("the pod's receipt of build: %v", c)
	}
	if m["outcome"] != "cancelled" || m["status"] != float64(7) {
		t.Errorf("the pod's receipt: outcome %v status %v", m["outcome"], m["status"])
	}
}

type execCmd struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// A join still waiting for the coordinator's token file swallows the
// kubelet's SIGTERM like a join waiting for its turn, and gives up after
// one start timeout (token and socket together) with one clear line and
// 125.
func TestJoinWaitingForTheTokenSwallowsSIGTERM(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "gkjoin")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	socket := filepath.Join(dir, "socket")
	cmd := gracefulCmd("join", "--socket", socket, "--name", "build", "--start-timeout", "3s", "--", "true")
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor(t, func() bool { return strings.Contains(stderr.String(), "waiting for the token file") })
	cmd.Process.Signal(syscall.SIGTERM)
	waitBounded(t, cmd, 20*time.Second)
	if code := cmd.ProcessState.ExitCode(); code != kubernetes.ExitJoinFailed {
		t.Errorf("join exited %d (%v), want 125", code, cmd.ProcessState)
	}
	out := stderr.String()
	if !strings.Contains(out, "ignoring SIGTERM") {
		t.Errorf("no word about the ignored SIGTERM:\n%s", out)
	}
	var last string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		last = l
	}
	want := "graceful: join: no token: " + filepath.Join(dir, "token") + " did not appear within 3s"
	if !strings.HasPrefix(last, want) {
		t.Errorf("last line %q, want it to start with %q", last, want)
	}
}

// Without a coordinator, join says so in one line naming the start
// timeout, and exits 125.
func TestJoinWithoutCoordinator(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "gkjoin")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	socket := filepath.Join(dir, "socket")
	cmd := gracefulCmd("join", "--socket", socket, "--start-timeout", "200ms", "--", "true")
	cmd.Env = append(cmd.Env, kubernetes.TokenEnv+"=x")
	var buf lockedBuffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitBounded(t, cmd, 20*time.Second)
	out := buf.String()
	if code := cmd.ProcessState.ExitCode(); code != kubernetes.ExitJoinFailed {
		t.Errorf("join exited %d, want 125", code)
	}
	// At most the note that it is waiting, then the reason it gave up.
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	want := "graceful: join: no coordinator at " + socket + " within 200ms (--start-timeout)"
	if len(lines) > 2 || lines[len(lines)-1] != want || len(lines) == 2 && lines[0] != "graceful join: waiting for the coordinator at "+socket+" (up to 200ms)" {
		t.Errorf("output %q, want a last line %q", out, want)
	}
}

// waitBounded waits for the started cmd, killing it (and failing t) if it
// has not exited within d: a hung graceful must fail its test, not stall
// the whole test binary until go test's timeout.
func waitBounded(t *testing.T, cmd *exec.Cmd, d time.Duration) {
	t.Helper()
	timer := time.AfterFunc(d, func() { _ = cmd.Process.Kill() })
	_ = cmd.Wait()
	if !timer.Stop() {
		t.Errorf("%v did not exit within %v; killed", cmd.Args, d)
	}
}

// A closed stderr pipe (join ... 2>&1 | head -1) must not kill join with
// SIGPIPE: it still exits with its own status.
func TestJoinSurvivesClosedStderr(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "gkjoin")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	pr.Close() // nobody reads: every write gets EPIPE (or SIGPIPE)
	defer pw.Close()
	cmd := gracefulCmd("join", "--socket", filepath.Join(dir, "socket"), "--start-timeout", "200ms", "--", "true")
	cmd.Env = append(cmd.Env, kubernetes.TokenEnv+"=x")
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitBounded(t, cmd, 20*time.Second)
	if code := cmd.ProcessState.ExitCode(); code != kubernetes.ExitJoinFailed {
		t.Errorf("join exited %d (%v), want %d", code, cmd.ProcessState, kubernetes.ExitJoinFailed)
	}
}
