//go:build linux

package process

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/graceful-sh/graceful/engine"
)

func TestCgroupMount(t *testing.T) {
	mi := []byte(`25 30 0:23 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw,nsdelegate
33 25 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
35 25 0:33 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids
`)
	if got, root := cgroupMount(mi, "cgroup2", ""); got != "/sys/fs/cgroup/unified" || root != "/" {
		t.Errorf("cgroup2 at %q, root %q", got, root)
	}
	if got, _ := cgroupMount(mi, "cgroup", "pids"); got != "/sys/fs/cgroup/pids" {
		t.Errorf("pids at %q", got)
	}
	if got, _ := cgroupMount(mi, "cgroup", "memory"); got != "" {
		t.Errorf("memory at %q, want none", got)
	}
}

// pidsLimited sees a pids limit on this process's v1 pids cgroup (where
// this machine has one), and none when there is none on the way up.
func TestPidsLimited(t *testing.T) {
	root := "/sys/fs/cgroup/pids"
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := os.Stat(filepath.Join(root, "cgroup.procs")); err != nil {
		t.Skip("no v1 pids hierarchy")
	}
	cg := filepath.Join(root, "gtest-pidslimited-"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(cg)
	run := func() string {
		cmd := exec.Command("/bin/sh", "-c", `echo $$ > "$1/cgroup.procs" && exec "$2"`, "sh", cg, os.Args[0])
		cmd.Env = append(os.Environ(), "GRACEFUL_PROCESS_HELPER=pids-limited")
		out, err := combinedOutput(cmd)
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return string(out)
	}
	if err := os.WriteFile(filepath.Join(cg, "pids.max"), []byte("50"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := run(); got != "true\n" {
		t.Errorf("under pids.max 50: pidsLimited says %q", got)
	}
	// Without a limit on the way up: only where the cgroup v2 hierarchy
	// has no pids controller of its own (a hybrid machine like CI's).
	for _, f := range []string{"/sys/fs/cgroup/unified/cgroup.controllers", "/sys/fs/cgroup/cgroup.controllers"} {
		if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), "pids") {
			t.Skip("cgroup v2 has a pids controller here: " + f)
		}
	}
	if err := os.WriteFile(filepath.Join(cg, "pids.max"), []byte("max"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := run(); got != "false\n" {
		t.Errorf("under pids.max max: pidsLimited says %q", got)
	}
}

// The engine's table of signal numbers, which process.SignalNumber and
// supervise.Catch use, is the platform's (the generic Linux numbering;
// mips, sparc and alpha number some signals differently).
func TestSignalTablesAgree(t *testing.T) {
	for _, name := range engine.SignalNames() {
		if got, want := engine.SignalNumber(name), int(unix.SignalNum(name)); got != want {
			t.Errorf("%s: engine %d, platform %d", name, got, want)
		}
		if got := SignalName(syscall.Signal(engine.SignalNumber(name))); got != name {
			t.Errorf("SignalName(%d) = %q, want %q", engine.SignalNumber(name), got, name)
		}
	}
}
