//go:build linux

package containers

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The suite runs when podman can: as root, with podman on PATH and
// `podman info` working. CONTAINER_SUITE changes that:
//
//	unset      run if podman can run here, else skip with one line
//	0          skip
//	require    run, and fail (not skip) if podman cannot run (.ci/run)
//
// Not a GRACEFUL_* name: those are graceful's own configuration (viper's
// environment), which graceful passes on and its tests check.
const modeEnv = "CONTAINER_SUITE"

// suite is what every test needs, set up once for the test binary: the
// graceful binary built by build/release.sh, the graceful image built from
// the repository's Containerfile, and a job image (the graceful image plus
// busybox) whose jobs have a shell.
type suite struct {
	root   string // the repository
	conf   string // containers/containers.conf
	dir    string // scratch space, removed at the end
	binary string // the static graceful binary
	image  string // the graceful image, as the Containerfile builds it
	jobs   string // the graceful image plus /bin/busybox and its applets
	id     string // unique per test binary, part of every name
}

var (
	setupOnce sync.Once
	theSuite  *suite
	skipWhy   string // why podman cannot run here
	setupErr  error  // podman can run, but setting up failed
)

func TestMain(m *testing.M) {
	code := m.Run()
	if theSuite != nil {
		theSuite.teardown()
	}
	os.Exit(code)
}

// need returns the suite, setting it up on first use, or skips the test
// with one line saying why podman cannot run (fails instead in require
// mode).
func need(t *testing.T) *suite {
	t.Helper()
	setupOnce.Do(func() { theSuite, skipWhy, setupErr = setup() })
	switch {
	case setupErr != nil:
		t.Fatalf("container suite set-up: %v", setupErr)
	case skipWhy != "" && os.Getenv(modeEnv) == "require":
		t.Fatalf("container suite: podman cannot run here (%s) but %s=require", skipWhy, modeEnv)
	case skipWhy != "":
		t.Skipf("container suite skipped: %s", skipWhy)
	}
	return theSuite
}

// setup checks that podman can run and builds the binary and the images.
func setup() (*suite, string, error) {
	// 1. Can podman run here at all?
	if os.Getenv(modeEnv) == "0" {
		return nil, modeEnv + "=0", nil
	}
	if runtime.GOOS != "linux" {
		return nil, "containers need Linux", nil
	}
	if _, err := exec.LookPath("podman"); err != nil {
		return nil, "podman not installed (apt-get install podman runc busybox-static)", nil
	}
	if os.Geteuid() != 0 {
		return nil, "not root (the suite uses rootful podman with runc)", nil
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil || !isStatic(busybox) {
		return nil, "no static busybox (apt-get install busybox-static)", nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, "", err
	}
	s := &suite{
		root: filepath.Dir(wd),
		conf: filepath.Join(wd, "containers.conf"),
		id:   fmt.Sprintf("%d", os.Getpid()),
	}
	if out, err := s.podman(context.Background(), "info", "--format", "{{.Host.OCIRuntime.Name}}").CombinedOutput(); err != nil {
		return nil, fmt.Sprintf("podman info failed: %s", lastLine(out)), nil
	}

	s.removeStale()

	// 2. The binary, as documented for containers.
	if s.dir, err = os.MkdirTemp("", "graceful-containers-"); err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	bin := filepath.Join(s.dir, "context", "bin")
	build := exec.CommandContext(ctx, filepath.Join(s.root, "build", "release.sh"))
	build.Env = append(os.Environ(), "PLATFORMS=linux/"+runtime.GOARCH, "OUT="+bin, "VERSION=v0.0.0-containers-test")
	if out, err := build.CombinedOutput(); err != nil {
		return s, "", fmt.Errorf("build/release.sh: %v\n%s", err, out)
	}
	s.binary = filepath.Join(bin, "graceful-linux-"+runtime.GOARCH)

	// 3. The graceful image from the repository's Containerfile, with only
	// the binary in its context: nothing else can end up in it.
	s.image = "localhost/graceful-containers-test:" + s.id
	if out, err := s.podman(ctx, "build", "--pull=never", "--layers=false", "--arch", runtime.GOARCH, "-t", s.image,
		"-f", filepath.Join(s.root, "Containerfile"), filepath.Join(s.dir, "context")).CombinedOutput(); err != nil {
		return s, "", fmt.Errorf("podman build of the Containerfile: %v\n%s", err, out)
	}

	// 4. The job image: the graceful image (its entrypoint included) plus
	// busybox, so the jobs have a shell.
	jobs := filepath.Join(s.dir, "jobs")
	if err := os.MkdirAll(filepath.Join(jobs, "bin"), 0o755); err != nil {
		return s, "", err
	}
	if err := copyFile(busybox, filepath.Join(jobs, "bin", "busybox"), 0o755); err != nil {
		return s, "", err
	}
	for _, applet := range []string{"sh", "sleep", "setsid", "echo", "cat", "ps", "kill", "true", "false"} {
		if err := os.Symlink("busybox", filepath.Join(jobs, "bin", applet)); err != nil {
			return s, "", err
		}
	}
	// /src: the example pod's job containers have workingDir /src, and
	// podman, unlike the kubelet, does not create a missing one.
	if err := os.MkdirAll(filepath.Join(jobs, "src"), 0o755); err != nil {
		return s, "", err
	}
	if err := os.WriteFile(filepath.Join(jobs, "src", "README"), []byte("the example pod's workingDir\n"), 0o644); err != nil {
		return s, "", err
	}
	containerfile := fmt.Sprintf("FROM %s\nCOPY bin/ /bin/\nCOPY src/ /src/\n", s.image)
	if err := os.WriteFile(filepath.Join(jobs, "Containerfile"), []byte(containerfile), 0o644); err != nil {
		return s, "", err
	}
	s.jobs = "localhost/graceful-containers-test-jobs:" + s.id
	if out, err := s.podman(ctx, "build", "--pull=never", "--layers=false", "-t", s.jobs, jobs).CombinedOutput(); err != nil {
		return s, "", fmt.Errorf("podman build of the job image: %v\n%s", err, out)
	}
	return s, "", nil
}

// teardown removes the images and the scratch directory. Containers are
// removed by the tests that made them.
func (s *suite) teardown() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, img := range []string{s.jobs, s.image} {
		if img == "" {
			continue
		}
		if out, err := s.podman(ctx, "rmi", "-f", img).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "containers: podman rmi %s: %v: %s\n", img, err, out)
		}
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// removeStale removes what earlier runs of the suite left behind when they
// were killed before cleaning up (a go test timeout): containers, pods,
// volumes and images whose names carry the pid of a process that no
// longer exists. Those of a run still going are left alone.
func (s *suite) removeStale() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kinds := []struct {
		list, rm []string
		prefix   string
	}{
		{[]string{"pod", "ps", "--format", "{{.Name}}"}, []string{"pod", "rm", "-f"}, "graceful-test-"},
		{[]string{"ps", "-a", "--format", "{{.Names}}"}, []string{"rm", "-f"}, "graceful-test-"},
		{[]string{"volume", "ls", "--format", "{{.Name}}"}, []string{"volume", "rm", "-f"}, "graceful-test-"},
		{[]string{"images", "--format", "{{.Repository}}:{{.Tag}}"}, []string{"rmi", "-f"}, "localhost/graceful-containers-test"},
	}
	for _, k := range kinds {
		out, err := s.podman(ctx, k.list...).Output()
		if err != nil {
			continue
		}
		for _, name := range strings.Fields(string(out)) {
			rest, ok := strings.CutPrefix(name, k.prefix)
			if !ok {
				continue
			}
			// graceful-test-PID-... or ...-test[-jobs]:PID
			pid := rest
			if _, tag, ok := strings.Cut(rest, ":"); ok {
				pid = tag
			} else {
				pid, _, _ = strings.Cut(rest, "-")
			}
			if _, err := strconv.Atoi(pid); err != nil || pid == s.id {
				continue
			}
			if _, err := os.Stat("/proc/" + pid); err == nil {
				continue // that run is still going
			}
			if out, err := s.podman(ctx, append(k.rm, name)...).CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "containers: removing %s left by an earlier run: %v: %s\n", name, err, out)
			}
		}
	}
}

// podman returns a podman command with the repository's containers.conf.
// podman runs in a process group of its own, so nothing it does with
// signals reaches the test.
func (s *suite) podman(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "podman", args...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+s.conf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// result is a finished podman command.
type result struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d after %v\nstdout:\n%s\nstderr:\n%s", r.code, r.elapsed.Round(time.Millisecond), r.stdout, r.stderr)
}

// run runs podman with args and returns how it ended; only a podman that
// could not be started or timed out fails the test.
func (s *suite) run(t *testing.T, timeout time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := s.podman(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("podman %s: no end within %v\n%s", strings.Join(args, " "), timeout, r)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("podman %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// must runs podman and fails the test unless it exits 0.
func (s *suite) must(t *testing.T, args ...string) result {
	t.Helper()
	r := s.run(t, 2*time.Minute, args...)
	if r.code != 0 {
		t.Fatalf("podman %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// name returns a container name unique to this test binary and test, and
// removes the container of that name when the test ends.
func (s *suite) name(t *testing.T, what string) string {
	t.Helper()
	n := "graceful-test-" + s.id + "-" + what
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if out, err := s.podman(ctx, "rm", "-f", "-t", "0", "--ignore", n).CombinedOutput(); err != nil {
			t.Errorf("cleanup: podman rm %s: %v: %s", n, err, out)
		}
	})
	return n
}

// waitLogs waits until the container's output contains want and returns
// the output.
func (s *suite) waitLogs(t *testing.T, name, want string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := s.run(t, time.Minute, "logs", name)
		if out := r.stdout + r.stderr; strings.Contains(out, want) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s: no %q in its output within 60s\n%s", name, want, r)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// countLines counts the lines of out that are line exactly (bar trailing
// white space). Output is matched by whole lines because graceful's own
// reports quote command lines, which hold the text the jobs print.
func countLines(out, line string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimRight(l, " \r\t") == line {
			n++
		}
	}
	return n
}

// isStatic reports whether the ELF file at path needs no dynamic loader:
// only such a binary runs in an image FROM scratch.
func isStatic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// logs returns the container's output so far, stdout and stderr in the
// order they were written.
func (s *suite) logs(t *testing.T, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := s.podman(ctx, "logs", name).CombinedOutput()
	if err != nil {
		t.Fatalf("podman logs %s: %v: %s", name, err, out)
	}
	return string(out)
}
