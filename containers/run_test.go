//go:build linux

package containers

import (
	"archive/tar"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBinaryIsStaticNonPIE checks the binary build/release.sh makes, as
// file(1) and go version -m would: an executable (not PIE), no dynamic
// loader, no shared libraries, built without cgo and with -trimpath, and
// the link-time version.
func TestBinaryIsStaticNonPIE(t *testing.T) {
	s := need(t)
	f, err := elf.Open(s.binary)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC {
		t.Errorf("ELF type %v, want ET_EXEC (a non-PIE executable)", f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("program header %v: the binary is dynamically linked", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("needs shared libraries %v", libs)
	}

	bi, err := buildinfo.ReadFile(s.binary)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, kv := range bi.Settings {
		settings[kv.Key] = kv.Value
	}
	for k, want := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true", "-buildmode": "exe"} {
		if settings[k] != want {
			t.Errorf("build setting %s = %q, want %q", k, settings[k], want)
		}
	}

	out, err := exec.Command(s.binary, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "graceful v0.0.0-containers-test (commit ") || !strings.Contains(string(out), bi.GoVersion) {
		t.Errorf("graceful version: %v, %q; want the version build/release.sh linked in and %s", err, out, bi.GoVersion)
	}
}

// TestImageHoldsOnlyGraceful checks the image the Containerfile builds:
// one file, the binary, and graceful run under the container profile as
// its entrypoint.
func TestImageHoldsOnlyGraceful(t *testing.T) {
	s := need(t)
	r := s.must(t, "image", "inspect", "--format", "{{json .Config.Entrypoint}} {{.Size}}", s.image)
	entrypoint, size, _ := strings.Cut(strings.TrimSpace(r.stdout), " ")
	if want := `["graceful","run","--profile","container","--"]`; entrypoint != want {
		t.Errorf("entrypoint %s, want %s", entrypoint, want)
	}
	t.Logf("image %s: %s bytes", s.image, size)

	name := s.name(t, "export")
	s.must(t, "create", "--name", name, s.image)
	export := s.must(t, "export", name)
	files := tarFiles(t, []byte(export.stdout))
	if want := []string{"usr/local/bin/graceful"}; strings.Join(files, " ") != strings.Join(want, " ") {
		t.Errorf("files in the image: %v, want %v", files, want)
	}
}

// TestInstallFromImage runs graceful install in the image, as the pod
// example's init container does: the binary lands on the mounted volume,
// whole and executable.
func TestInstallFromImage(t *testing.T) {
	s := need(t)
	vol := t.TempDir()
	s.must(t, "run", "--rm", "--name", s.name(t, "install"), "--entrypoint", "graceful",
		"-v", vol+":/graceful", s.image, "install", "/graceful/bin")
	got, err := os.ReadFile(filepath.Join(vol, "bin", "graceful"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(s.binary)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("installed copy: %d bytes, not the %d of the image's binary", len(got), len(want))
	}
	if fi, err := os.Stat(filepath.Join(vol, "bin", "graceful")); err != nil || fi.Mode() != 0o755 {
		t.Errorf("installed copy: %v, %v; want mode 0755", fi.Mode(), err)
	}
}

// TestStopJobIgnoringTERM is docker stop's hard case: a job that ignores
// SIGTERM and has started daemons in sessions of their own. podman stop
// sends graceful (PID 1) one SIGTERM; graceful's profile sends the job's
// group SIGTERM at once and SIGKILLs the whole tree, daemons included, at
// 9s, well before podman's own SIGKILL at 15s.
func TestStopJobIgnoringTERM(t *testing.T) {
	s := need(t)
	t.Parallel()
	marker := 100000 + os.Getpid()%100000 // a sleep argument to find leftovers by
	job := fmt.Sprintf(`trap 'echo job: got SIGTERM' TERM
setsid sh -c 'trap "" TERM; exec sleep %[1]d' &
setsid sh -c 'trap "" TERM; sleep %[1]d; echo daemon: still here' &
echo ready
while :; do sleep 1; done`, marker)
	name := s.name(t, "ignores-term")
	s.must(t, "run", "-d", "--name", name, s.jobs, "sh", "-c", job)
	s.waitLogs(t, name, "ready")
	waitProcs(t, s, name, fmt.Sprint(marker), 2)

	stop := s.run(t, time.Minute, "stop", "-t", "15", name)
	if stop.code != 0 {
		t.Fatalf("podman stop: %s", stop)
	}
	if strings.Contains(stop.stderr, "resorting to SIGKILL") {
		t.Errorf("podman had to SIGKILL the container itself: %s", stop.stderr)
	}
	// graceful kills at 9s; podman would at 15s. Generous both ways.
	if stop.elapsed < 8*time.Second || stop.elapsed > 14*time.Second {
		t.Errorf("podman stop took %v, want about 9s (graceful's kill step, not podman's 15s)", stop.elapsed)
	}
	if code := exitCode(t, s, name); code != 137 {
		t.Errorf("exit status %d, want 137 (job killed by SIGKILL)", code)
	}
	logs := s.waitLogs(t, name, "done")
	if n := countLines(logs, "job: got SIGTERM"); n != 1 {
		t.Errorf("the job got SIGTERM %d times, want once:\n%s", n, logs)
	}
	for _, want := range []string{"step:kill", "signal SIGKILL → tree: ok", "job killed by SIGKILL"} {
		if !strings.Contains(logs, want) {
			t.Errorf("graceful's events lack %q:\n%s", want, logs)
		}
	}
	if countLines(logs, "daemon: still here") > 0 || strings.Contains(logs, "graceful: cleanup:") {
		t.Errorf("a daemon outlived the kill step, or graceful could not clean up:\n%s", logs)
	}
	if left := hostProcs(fmt.Sprint(marker)); len(left) > 0 {
		t.Errorf("processes left on the host: %v", left)
	}
}

// TestStopJobExitingOnTERM: a job that exits on SIGTERM stops at once,
// with 143 (128 + SIGTERM).
func TestStopJobExitingOnTERM(t *testing.T) {
	s := need(t)
	t.Parallel()
	name := s.name(t, "exits-on-term")
	s.must(t, "run", "-d", "--name", name, s.jobs, "sh", "-c", "echo ready; exec sleep 86400")
	s.waitLogs(t, name, "ready")
	stop := s.run(t, time.Minute, "stop", "-t", "15", name)
	if stop.code != 0 {
		t.Fatalf("podman stop: %s", stop)
	}
	if stop.elapsed > 8*time.Second {
		t.Errorf("podman stop took %v, want far less than the 9s kill step", stop.elapsed)
	}
	if code := exitCode(t, s, name); code != 143 {
		t.Errorf("exit status %d, want 143 (job died of SIGTERM)", code)
	}
	// graceful's own clock: its "done" event's offset from the SIGTERM.
	logs := s.waitLogs(t, name, "done")
	m := regexp.MustCompile(`\+(\d+\.\d+)s done +job killed by SIGTERM`).FindStringSubmatch(logs)
	if m == nil {
		t.Fatalf("no \"done job killed by SIGTERM\" event:\n%s", logs)
	}
	if at, _ := strconv.ParseFloat(m[1], 64); at >= 1 {
		t.Errorf("the job ended %ss after graceful's SIGTERM, want within 1s:\n%s", m[1], logs)
	}
}

// TestSignalsReachJob: the container profile forwards SIGHUP and SIGUSR1
// to the job, each once, and does not cancel on them.
func TestSignalsReachJob(t *testing.T) {
	s := need(t)
	t.Parallel()
	job := `trap 'echo job: got SIGHUP' HUP
trap 'echo job: got SIGUSR1' USR1
trap 'echo job: got SIGTERM; exit 0' TERM
echo ready
while :; do sleep 1; done`
	name := s.name(t, "forward")
	s.must(t, "run", "-d", "--name", name, s.jobs, "sh", "-c", job)
	s.waitLogs(t, name, "ready")
	for _, sig := range []string{"HUP", "USR1"} {
		s.must(t, "kill", "-s", sig, name)
		s.waitLogs(t, name, "job: got SIG"+sig)
	}
	if state := s.must(t, "inspect", "--format", "{{.State.Status}}", name).stdout; strings.TrimSpace(state) != "running" {
		t.Errorf("after SIGHUP and SIGUSR1 the container is %s, want running", state)
	}
	s.must(t, "stop", "-t", "15", name)
	if code := exitCode(t, s, name); code != 0 {
		t.Errorf("exit status %d, want 0 (the job's own, after its SIGTERM trap)", code)
	}
	logs := s.waitLogs(t, name, "done")
	for _, sig := range []string{"SIGHUP", "SIGUSR1", "SIGTERM"} {
		if n := countLines(logs, "job: got "+sig); n != 1 {
			t.Errorf("the job got %s %d times, want once:\n%s", sig, n, logs)
		}
	}
}

// TestExitStatusPassesThrough: podman run exits with the job's status, or
// with graceful's 126/127 when the command cannot run.
func TestExitStatusPassesThrough(t *testing.T) {
	s := need(t)
	tests := []struct {
		name   string
		cmd    []string
		want   int
		stderr string
	}{
		{"job exits 0", []string{"sh", "-c", "exit 0"}, 0, ""},
		{"job exits 3", []string{"sh", "-c", "exit 3"}, 3, ""},
		{"job exits 126", []string{"sh", "-c", "exit 126"}, 126, ""},
		{"job exits 127", []string{"sh", "-c", "exit 127"}, 127, ""},
		{"command not executable", []string{"/bin"}, 126, "graceful: /bin: not executable"},
		{"command not found", []string{"no-such-command"}, 127, "graceful: no-such-command: command not found"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := s.name(t, "exit-"+strconv.Itoa(i))
			args := append([]string{"run", "--name", name, s.jobs}, tt.cmd...)
			r := s.run(t, 2*time.Minute, args...)
			if r.code != tt.want {
				t.Errorf("podman run ... %v: exit %d, want %d\n%s", tt.cmd, r.code, tt.want, r)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr %q, want %q", r.stderr, tt.stderr)
			}
		})
	}
}

// tarFiles lists the entries of a tar archive that are not directories.
func tarFiles(t *testing.T, b []byte) []string {
	t.Helper()
	var files []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("podman export: %v", err)
		}
		if h.Typeflag != tar.TypeDir {
			files = append(files, strings.TrimPrefix(h.Name, "./"))
		}
	}
}

// exitCode waits for the container to end and returns its exit status.
func exitCode(t *testing.T, s *suite, name string) int {
	t.Helper()
	r := s.must(t, "wait", name)
	code, err := strconv.Atoi(strings.TrimSpace(r.stdout))
	if err != nil {
		t.Fatalf("podman wait %s: %q", name, r.stdout)
	}
	return code
}

// waitProcs waits until n processes of the container have marker in their
// command line.
func waitProcs(t *testing.T, s *suite, name, marker string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := s.run(t, time.Minute, "exec", name, "ps", "-o", "args")
		if strings.Count(r.stdout, "sleep "+marker) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s: not %d processes running sleep %s within 30s:\n%s", name, n, marker, r)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// hostProcs lists the host's processes running "sleep marker".
func hostProcs(marker string) []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), "sleep\x00"+marker) {
			found = append(found, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return found
}
