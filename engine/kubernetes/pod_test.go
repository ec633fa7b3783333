//go:build linux

package kubernetes

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graceful-sh/graceful/engine/kubernetes/internal/wire"
)

// These tests play the kubelet against real processes: the coordinator and
// each job container run as separate helper processes, each in a PID
// namespace of its own when the machine allows it (unshare), so that no
// signal can cross between them, exactly as in a pod.

func count(ls []string, prefix string) int {
	n := 0
	for _, l := range ls {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// kubeletTerminate sends SIGTERM to every container's first process at the
// same moment and SIGKILL to all of them at the grace period, as the kubelet
// does when a pod is deleted. It returns when SIGTERM was sent.
func (p *pod) kubeletTerminate(t *testing.T) time.Time {
	t0 := time.Now()
	for _, c := range p.list {
		syscall.Kill(c.init, syscall.SIGTERM)
	}
	kill := time.AfterFunc(testGrace, func() {
		for _, c := range p.list {
			syscall.Kill(c.init, syscall.SIGKILL)
		}
	})
	t.Cleanup(func() { kill.Stop() })
	return t0
}

// killContainer is a container dying at once (OOM, node failure).
func (p *pod) killContainer(c *container) {
	if canUnshare {
		syscall.Kill(c.init, syscall.SIGKILL) // the whole PID namespace dies
		return
	}
	syscall.Kill(-c.init, syscall.SIGKILL)
}

func TestKubeletTerminatesPod(t *testing.T) {
	p := newPod(t)
	jobFile := filepath.Join(p.dir, "job")
	final := filepath.Join(p.dir, "final")
	coord := p.coordinator("GK_JOBS=build", "GK_FINAL="+final)
	build := p.join("build", nil, jobArgv("trap", jobFile, "7")...)
	waitFile(t, jobFile, "ready")

	t0 := p.kubeletTerminate(t)
	cs := coord.wait(t, 10*time.Second)
	js := build.wait(t, 10*time.Second)

	if took := coord.at.Sub(t0); took >= testGrace {
		t.Errorf("coordinator exited %v after SIGTERM, not before the grace period %v", took, testGrace)
	}
	job := lines(jobFile)
	if n := count(job, "terminated"); n != 1 {
		t.Errorf("job got SIGTERM %d times, want exactly once: %q", n, job)
	}
	if count(job, "finalised") != 1 {
		t.Errorf("job did not finalise: %q", job)
	}
	if cs != 7 || js != 7 {
		t.Errorf("exit statuses: coordinator %d, join %d; want the job's 7 from both\ncoordinator:\n%s\njoin:\n%s", cs, js, coord.out.String(), build.out.String())
	}
	if d := cmp.Diff([]string{"coordinator finalised cancelled"}, lines(final)); d != "" {
		t.Errorf("coordinator finalisation (-want +got):\n%s", d)
	}
	out := coord.out.String()
	for _, want := range []string{"[build] ready\n", "[build] finalised\n", "container build: exited with status 7"} {
		if !strings.Contains(out, want) {
			t.Errorf("coordinator output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(build.out.String(), "ignoring SIGTERM") {
		t.Errorf("join did not say it ignores the kubelet's SIGTERM:\n%s", build.out.String())
	}
}

// kubeletTerminateSidecarPod plays the kubelet of a pod whose coordinator
// is a native sidecar (an init container with restartPolicy Always,
// KEP-753): SIGTERM goes to the main containers (the joins) first, and to
// the sidecar only once every main container has exited, all within one
// grace period. It returns when the first SIGTERM was sent.
func (p *pod) kubeletTerminateSidecarPod(t *testing.T, coord *container, mains ...*container) time.Time {
	t0 := time.Now()
	for _, c := range mains {
		syscall.Kill(c.init, syscall.SIGTERM)
	}
	go func() {
		for _, c := range mains {
			<-c.exited
		}
		syscall.Kill(coord.init, syscall.SIGTERM)
	}()
	kill := time.AfterFunc(testGrace, func() {
		for _, c := range p.list {
			syscall.Kill(c.init, syscall.SIGKILL)
		}
	})
	t.Cleanup(func() { kill.Stop() })
	return t0
}

// With the coordinator as a native sidecar, only the joins get the
// kubelet's SIGTERM at first. They report it, and the coordinator cancels
// on the first report: the job is interrupted exactly once and the pod
// ends before the grace period, not at the kubelet's SIGKILL.
func TestKubeletTerminatesSidecarPod(t *testing.T) {
	p := newPod(t)
	jobFile := filepath.Join(p.dir, "job")
	coord := p.coordinator("GK_JOBS=build")
	build := p.join("build", nil, jobArgv("trap", jobFile, "7")...)
	waitFile(t, jobFile, "ready")

	t0 := p.kubeletTerminateSidecarPod(t, coord, build)
	js := build.wait(t, 10*time.Second)
	cs := coord.wait(t, 10*time.Second)

	if took := build.at.Sub(t0); took >= testGrace {
		t.Errorf("the job container exited %v after SIGTERM, not before the grace period %v", took, testGrace)
	}
	job := lines(jobFile)
	if n := count(job, "terminated"); n != 1 {
		t.Errorf("job got SIGTERM %d times, want exactly once: %q", n, job)
	}
	if cs != 7 || js != 7 {
		t.Errorf("exit statuses: coordinator %d, join %d; want the job's 7 from both\ncoordinator:\n%s\njoin:\n%s", cs, js, coord.out.String(), build.out.String())
	}
	if out := coord.out.String(); !strings.Contains(out, "container build got SIGTERM from the kubelet: cancelling") {
		t.Errorf("the coordinator did not say why it cancelled:\n%s", out)
	}
}

func TestJobExitsBeforeAnySignal(t *testing.T) {
	p := newPod(t)
	jobFile := filepath.Join(p.dir, "job")
	coord := p.coordinator("GK_JOBS=build")
	build := p.join("build", nil, jobArgv("exit", jobFile, "0")...)
	if s := build.wait(t, 10*time.Second); s != 0 {
		t.Errorf("join exited %d, want 0:\n%s", s, build.out.String())
	}
	if s := coord.wait(t, 10*time.Second); s != 0 {
		t.Errorf("coordinator exited %d, want 0:\n%s", s, coord.out.String())
	}
	if !strings.Contains(coord.out.String(), "[build] hello from build\n") {
		t.Errorf("job output not collected:\n%s", coord.out.String())
	}
	if !strings.Contains(build.out.String(), "hello from build\n") {
		t.Errorf("job output not on join's own stdout:\n%s", build.out.String())
	}
}

func TestTwoJobContainersInOrder(t *testing.T) {
	p := newPod(t)
	jobFile := filepath.Join(p.dir, "job")
	coord := p.coordinator("GK_JOBS=first,second")
	// The second container starts (and connects) first; it must still
	// run second.
	second := p.join("second", nil, jobArgv("exit", jobFile, "0")...)
	time.Sleep(50 * time.Millisecond)
	first := p.join("first", nil, jobArgv("exit", jobFile, "0")...)
	for _, c := range []*container{first, second, coord} {
		if s := c.wait(t, 10*time.Second); s != 0 {
			t.Errorf("%s exited %d:\n%s", c.name, s, c.out.String())
		}
	}
	if d := cmp.Diff([]string{"ran first", "ran second"}, lines(jobFile)); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
}

func TestFailureSkipsLaterContainer(t *testing.T) {
	p := newPod(t)
	jobFile := filepath.Join(p.dir, "job")
	coord := p.coordinator("GK_JOBS=first,second")
	second := p.join("second", nil, jobArgv("exit", jobFile, "0")...)
	first := p.join("first", nil, jobArgv("exit", jobFile, "3")...)
	if s := first.wait(t, 10*time.Second); s != 3 {
		t.Errorf("first exited %d, want 3", s)
	}
	if s := second.wait(t, 10*time.Second); s != ExitSkipped {
		t.Errorf("second exited %d, want %d (skipped):\n%s", s, ExitSkipped, second.out.String())
	}
	if s := coord.wait(t, 10*time.Second); s != 3 {
		t.Errorf("coordinator exited %d, want 3:\n%s", s, coord.out.String())
	}
	if d := cmp.Diff([]string{"ran first"}, lines(jobFile)); d != "" {
		t.Errorf("jobs run (-want +got):\n%s", d)
	}
}

func TestLostJobContainer(t *testing.T) {
	p := newPod(t)
	jobFile := filepath.Join(p.dir, "job")
	coord := p.coordinator("GK_JOBS=build", "GK_INTERVAL=100ms")
	build := p.join("build", nil, jobArgv("trap", jobFile, "0")...)
	waitFile(t, jobFile, "ready")
	p.killContainer(build)
	if s := coord.wait(t, 10*time.Second); s != 123 {
		t.Errorf("coordinator exited %d, want 123 (lost counts as abandoned):\n%s", s, coord.out.String())
	}
	if !strings.Contains(coord.out.String(), "container build: lost") {
		t.Errorf("no lost status:\n%s", coord.out.String())
	}
}

func TestJobContainerNeverConnecting(t *testing.T) {
	p := newPod(t)
	jobFile := filepath.Join(p.dir, "job")
	coord := p.coordinator("GK_JOBS=a,b", "GK_START_TIMEOUT=300ms")
	a := p.join("a", nil, jobArgv("exit", jobFile, "0")...)
	a.wait(t, 10*time.Second)
	if s := coord.wait(t, 10*time.Second); s != 125 {
		t.Errorf("coordinator exited %d, want 125:\n%s", s, coord.out.String())
	}
	if !strings.Contains(coord.out.String(), "container b: never-connected") {
		t.Errorf("no never-connected status:\n%s", coord.out.String())
	}
}

func TestJoinWithWrongToken(t *testing.T) {
	p := newPod(t)
	jobFile := filepath.Join(p.dir, "job")
	coord := p.coordinator("GK_JOBS=a", "GK_START_TIMEOUT=500ms")
	a := p.join("a", []string{"GRACEFUL_TOKEN=guessed"}, jobArgv("exit", jobFile, "0")...)
	if s := a.wait(t, 10*time.Second); s != ExitJoinFailed || !strings.Contains(a.out.String(), "authentication failed") {
		t.Errorf("join exited %d, want %d with authentication failed:\n%s", s, ExitJoinFailed, a.out.String())
	}
	if _, err := os.Stat(jobFile); err == nil {
		t.Error("the job ran without authentication")
	}
	coord.wait(t, 10*time.Second)
	if !strings.Contains(coord.out.String(), "wrong token") {
		t.Errorf("coordinator did not log the refusal:\n%s", coord.out.String())
	}
}

func TestGarbageOnTheSocket(t *testing.T) {
	p := newPod(t)
	jobFile := filepath.Join(p.dir, "job")
	coord := p.coordinator("GK_JOBS=a")
	var nc net.Conn
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var err error
		if nc, err = net.Dial("unix", p.socket); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
	defer nc.Close()
	nc.Write([]byte("\x00\x00\x00\x05{{{{{\xff\xfe garbage"))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if m, err := wire.ReadMessage(nc); err != nil || m.Type != wire.TypeError {
		t.Errorf("reply to garbage: %+v, %v; want an error message", m, err)
	}
	a := p.join("a", nil, jobArgv("exit", jobFile, "0")...)
	a.wait(t, 10*time.Second)
	if s := coord.wait(t, 10*time.Second); s != 0 {
		t.Errorf("coordinator exited %d after garbage, want 0:\n%s\njoin:\n%s", s, coord.out.String(), a.out.String())
	}
}

func TestCoordinatorGoneCancelsJob(t *testing.T) {
	p := newPod(t)
	jobFile := filepath.Join(p.dir, "job")
	coord := p.coordinator("GK_JOBS=build")
	build := p.join("build", nil, jobArgv("trap", jobFile, "7")...)
	waitFile(t, jobFile, "ready")
	p.killContainer(coord)
	if s := build.wait(t, 10*time.Second); s != 7 {
		t.Errorf("join exited %d, want the job's 7:\n%s", s, build.out.String())
	}
	job := lines(jobFile)
	if count(job, "terminated") != 1 || count(job, "finalised") != 1 {
		t.Errorf("job did not get one SIGTERM and finalise: %q", job)
	}
	if !strings.Contains(build.out.String(), "coordinator gone") {
		t.Errorf("join did not report the coordinator gone:\n%s", build.out.String())
	}
	// The exit report is not attempted: there is nobody to send it to.
	if out := build.out.String(); strings.Contains(out, "reporting exit") || strings.Contains(out, "not acknowledged") {
		t.Errorf("join tried to report to a coordinator it knows is gone:\n%s", out)
	}
}

// Only SIGUSR1 and the timeline's SIGTERM reach the job; the kubelet's
// signals are swallowed, and fault signals sent with kill (SIGSEGV,
// SIGABRT) are logged and ignored, where before they ended join with the
// Go runtime's goroutine dump.
func TestJoinForwardsOnlyMeaningfulSignals(t *testing.T) {
	p := newPod(t)
	jobFile := filepath.Join(p.dir, "job")
	coord := p.coordinator("GK_JOBS=build")
	build := p.join("build", nil, jobArgv("trap", jobFile, "0")...)
	waitFile(t, jobFile, "ready")
	for _, s := range []syscall.Signal{syscall.SIGWINCH, syscall.SIGURG, syscall.SIGCHLD, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGSEGV, syscall.SIGABRT, syscall.SIGUSR1} {
		syscall.Kill(build.init, s)
	}
	waitFile(t, jobFile, "user defined signal 1")
	p.kubeletTerminate(t)
	coord.wait(t, 10*time.Second)
	build.wait(t, 10*time.Second)
	got := lines(jobFile)
	var names []string
	for _, l := range got {
		if i := strings.LastIndexByte(l, ' '); i > 0 && l != "ready" {
			names = append(names, l[:i])
		}
	}
	if d := cmp.Diff([]string{"user defined signal 1", "terminated"}, names); d != "" {
		t.Errorf("signals the job received (-want +got):\n%s\nfile: %q", d, got)
	}
}

func TestJobIsTheOOMKillersFirstChoice(t *testing.T) {
	own, _ := os.ReadFile(fmt.Sprintf("/proc/%d/oom_score_adj", os.Getpid()))
	if strings.TrimSpace(string(own)) == "1000" {
		t.Skip("this test process already has oom_score_adj 1000; the check would prove nothing")
	}
	p := newPod(t)
	jobFile := filepath.Join(p.dir, "job")
	coord := p.coordinator("GK_JOBS=build")
	build := p.join("build", nil, jobArgv("oom", jobFile)...)
	build.wait(t, 10*time.Second)
	coord.wait(t, 10*time.Second)
	if d := cmp.Diff([]string{"oom_score_adj 1000"}, lines(jobFile)); d != "" {
		t.Errorf("job's oom_score_adj (-want +got):\n%s", d)
	}
}

// A child the job forks at once has the raised score too: the score is
// inherited at the fork, not written afterwards (before, 2 runs in 3 kept
// 0), and a job that ends at once no longer makes join complain.
func TestJobChildIsTheOOMKillersFirstChoiceToo(t *testing.T) {
	own, _ := os.ReadFile("/proc/self/oom_score_adj")
	if strings.TrimSpace(string(own)) == "1000" {
		t.Skip("this test process already has oom_score_adj 1000; the check would prove nothing")
	}
	for i := range 5 {
		p := newPod(t)
		jobFile := filepath.Join(p.dir, "job")
		coord := p.coordinator("GK_JOBS=build")
		build := p.join("build", nil, "/bin/sh", "-c", "cat /proc/self/oom_score_adj > "+jobFile)
		build.wait(t, 10*time.Second)
		coord.wait(t, 10*time.Second)
		got := lines(jobFile)
		if len(got) != 1 || got[0] != "1000" {
			t.Fatalf("run %d: the job's child has oom_score_adj %q, want 1000", i, got)
		}
		if strings.Contains(build.out.String(), "oom_score_adj") {
			t.Errorf("run %d: join complained:\n%s", i, build.out.String())
		}
	}
}

func TestJobCommandNotFound(t *testing.T) {
	p := newPod(t)
	coord := p.coordinator("GK_JOBS=build")
	build := p.join("build", nil, "/nonexistent/command")
	if s := build.wait(t, 10*time.Second); s != 127 {
		t.Errorf("join exited %d, want 127:\n%s", s, build.out.String())
	}
	if s := coord.wait(t, 10*time.Second); s != 127 {
		t.Errorf("coordinator exited %d, want 127:\n%s", s, coord.out.String())
	}
	if !strings.Contains(coord.out.String(), "container build: failed to start") {
		t.Errorf("coordinator did not report the failure to start:\n%s", coord.out.String())
	}
}

// A job container that comes up after the coordinator has finished (an
// earlier container failed, the coordinator exited) is told to skip at once
// by the marker beside the socket, instead of waiting its start timeout.
func TestContainerArrivingAfterTheCoordinatorFinished(t *testing.T) {
	p := newPod(t)
	jobFile := filepath.Join(p.dir, "job")
	coord := p.coordinator("GK_JOBS=first,second")
	first := p.join("first", nil, jobArgv("exit", jobFile, "3")...)
	first.wait(t, 10*time.Second)
	coord.wait(t, 10*time.Second)
	second := p.join("second", nil, jobArgv("exit", jobFile, "0")...)
	if s := second.wait(t, 5*time.Second); s != ExitSkipped {
		t.Errorf("late container exited %d, want %d:\n%s", s, ExitSkipped, second.out.String())
	}
	if d := cmp.Diff([]string{"ran first"}, lines(jobFile)); d != "" {
		t.Errorf("jobs run (-want +got):\n%s", d)
	}
}

// A job container still running at the coordinator's abandon step (its own
// timeline is longer than the pod allows) is abandoned: the coordinator stops
// waiting, reports it, and still exits before the grace period.
func TestJobContainerAbandoned(t *testing.T) {
	p := newPod(t)
	coord := p.coordinator("GK_JOBS=build")
	build := p.join("build", []string{"GK_JOIN_KILL_AT=5s"}, jobArgv("hang")...)
	waitFor(t, func() bool { return strings.Contains(coord.out.String(), "[build] ready") })
	t0 := p.kubeletTerminate(t)
	cs := coord.wait(t, 10*time.Second)
	if took := coord.at.Sub(t0); took >= testGrace {
		t.Errorf("coordinator exited %v after SIGTERM, not before the grace period %v", took, testGrace)
	}
	if cs != 123 || !strings.Contains(coord.out.String(), "container build: abandoned") {
		t.Errorf("coordinator exited %d, want 123 with build abandoned:\n%s", cs, coord.out.String())
	}
	build.wait(t, 10*time.Second) // the kubelet's SIGKILL at the grace period
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
	}
}

// The shared token is join's, not the job's: it is not in the job's
// environment (nor in the coordinator's finalisation's).
func TestJobDoesNotSeeTheToken(t *testing.T) {
	p := newPod(t)
	jobFile := filepath.Join(p.dir, "job")
	coord := p.coordinator("GK_JOBS=build")
	build := p.join("build", nil, jobArgv("env", jobFile)...)
	build.wait(t, 10*time.Second)
	coord.wait(t, 10*time.Second)
	if d := cmp.Diff([]string{"token="}, lines(jobFile)); d != "" {
		t.Errorf("job's environment (-want +got):\n%s", d)
	}
}
