//go:build linux

package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A /proc that is missing (a tmpfs over it) or belongs to another PID
// namespace (unshare --pid without --mount-proc) cannot show the job's
// tree: graceful must refuse to run blind (exit 125, saying why and what
// to do), never sweep the wrong processes nor claim success. Before, a
// setsid'd daemon survived with exit 0 and no message.
func TestRunRefusesForeignProc(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare")
	}
	for _, tc := range []struct {
		name    string
		unshare []string
		script  string
		want    string
	}{
		{"proc missing", []string{"--mount", "--fork"}, `mount -t tmpfs none /proc && exec "$@"`, "/proc is missing"},
		{"proc of another namespace", []string{"--pid", "--fork"}, `exec "$@"`, "/proc is of another PID namespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := gracefulCmd("run", "--cgroup", "off", "--", "/bin/sh", "-c", "setsid sleep 1000 & echo started")
			args := append(append([]string{}, tc.unshare...), "/bin/sh", "-c", tc.script, "sh")
			args = append(args, g.Args...)
			cmd := exec.Command("unshare", args...)
			cmd.Env = g.Env
			out, _ := cmd.CombinedOutput()
			if cmd.ProcessState.ExitCode() != 125 {
				t.Errorf("exit %d, want 125; output:\n%s", cmd.ProcessState.ExitCode(), out)
			}
			if !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "--cgroup on") {
				t.Errorf("output does not say %q and what to do:\n%s", tc.want, out)
			}
			if strings.Contains(string(out), "started") {
				t.Errorf("the job ran blind:\n%s", out)
			}
		})
	}
}
