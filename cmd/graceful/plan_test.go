package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graceful-sh/graceful/policies"
)

// planEnv clears the environment variables the example policies read, so
// the goldens show their defaults whatever the machine has set.
func planEnv(t *testing.T) {
	t.Helper()
	for _, name := range []string{
		"BUILDKITE_CANCEL_GRACE_PERIOD", "BUILDKITE_SIGNAL_GRACE_PERIOD_SECONDS",
		"BUILDKITE_CANCEL_SIGNAL_TIMEOUT", "BUILDKITE_CANCEL_CLEANUP_TIMEOUT",
		"BUILDKITE_CANCEL_SIGNAL", "TIMEOUT_STOP_SEC", "KILL_AFTER", "DRAIN_TIMEOUT",
	} {
		t.Setenv(name, "")
	}
}

// planProfiles lists every profile plan is tested with: the built-ins,
// then those of examples/policies, each with the arguments that select it.
func planProfiles(t *testing.T) [][]string {
	t.Helper()
	var all [][]string
	for _, p := range policies.Builtin() {
		all = append(all, []string{"--profile", p.Name})
	}
	files, err := policies.ExpandPaths([]string{examples})
	if err != nil {
		t.Fatal(err)
	}
	pol, diags := policies.Load(files, policies.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, p := range pol.Profiles() {
		all = append(all, []string{"--policy", examples, "--profile", p.Name})
	}
	return all
}

// TestPlanEveryProfile: one golden per platform holds plan's output for
// every built-in and example profile, in that order.
func TestPlanEveryProfile(t *testing.T) {
	planEnv(t)
	profiles := planProfiles(t)
	for _, pf := range platformNames() {
		t.Run(pf, func(t *testing.T) {
			var b strings.Builder
			for _, args := range profiles {
				args = append([]string{"plan", "--for", pf}, args...)
				out, errOut, code := polRun(t, "", args...)
				if code != exitOK && code != exitFindings {
					t.Fatalf("%v: exit %d: %s", args, code, errOut)
				}
				fmt.Fprintf(&b, "$ graceful %s\n%s", strings.Join(args, " "), out)
				if code != 0 {
					fmt.Fprintf(&b, "(exit status %d)\n", code)
				}
				b.WriteString("\n")
			}
			golden(t, "plan/"+pf+".txt", b.String())
		})
	}
}

// TestPlanGiven: settings given with --set are checked; one too short
// says what it cuts and exits 1.
func TestPlanGiven(t *testing.T) {
	planEnv(t)
	tests := []struct {
		name   string
		golden string
		args   []string
		code   int
	}{
		{"kubernetes: the pod's grace period fits", "kubernetes-fits.txt", []string{"--for", "kubernetes", "--profile", "kubernetes", "--set", "terminationGracePeriodSeconds=60"}, 0},
		{"kubernetes: a preStop hook eats the grace period", "kubernetes-prestop.txt", []string{"--for", "kubernetes", "--profile", "kubernetes", "--set", "terminationGracePeriodSeconds=60", "--set", "preStop=15s"}, 1},
		{"kubernetes: a preStop longer than the grace period leaves nothing", "kubernetes-prestop-all.txt", []string{"--for", "kubernetes", "--profile", "kubernetes", "--set", "grace=60", "--set", "preStop=90s"}, 1},
		{"kubernetes: finalisation reserve cut, abandon still runs", "kubernetes-ci-cut.txt", []string{"--for", "k8s", "--policy", examples + "kubernetes.hcl", "--profile", "kubernetes-ci", "--set", "grace=100"}, 1},
		{"docker: the first SIGTERM only drains", "docker-drain.txt", []string{"--for", "docker", "--set", "stop-signal=SIGTERM", "--set", "stop-timeout=11"}, 1},
		{"docker: stop timeout too short", "docker-short.txt", []string{"--for", "docker", "--profile", "container", "--set", "--stop-timeout=5"}, 1},
		{"compose: exactly the deadline leaves no time to exit", "compose-tight.txt", []string{"--for", "compose", "--profile", "container", "--set", "stop_grace_period=10s"}, 0},
		{"systemd: control-group and a short timeout", "systemd-wrong.txt", []string{"--for", "systemd", "--policy", examples + "finalize.hcl", "--set", "KillMode=control-group", "--set", "TimeoutStopSec=12", "--set", "KillSignal=SIGQUIT"}, 1},
		{"systemd: no SIGKILL, infinity", "systemd-nokill.txt", []string{"--for", "systemd", "--profile", "container", "--set", "KillMode=mixed", "--set", "SendSIGKILL=no", "--set", "TimeoutStopSec=5"}, 0},
		{"buildkite-v3: a cancel grace period makes the signal grace too short", "buildkite-v3-cancel.txt", []string{"--for", "buildkite-v3", "--policy", examples + "buildkite.hcl", "--set", "BUILDKITE_CANCEL_GRACE_PERIOD=8", "--set", "signal=SIGQUIT"}, 1},
		{"buildkite-v3: signal grace not below the cancel grace", "buildkite-v3-order.txt", []string{"--for", "buildkite-v3", "--profile", "container", "--set", "BUILDKITE_CANCEL_GRACE_PERIOD=20", "--set", "BUILDKITE_SIGNAL_GRACE_PERIOD_SECONDS=20"}, 1},
		{"buildkite-v3: a negative signal grace is relative", "buildkite-v3-relative.txt", []string{"--for", "buildkite-v3", "--profile", "container", "--set", "BUILDKITE_CANCEL_GRACE_PERIOD=60", "--set", "BUILDKITE_SIGNAL_GRACE_PERIOD_SECONDS=-15"}, 0},
		{"buildkite-v4: signal timeout too short", "buildkite-v4-short.txt", []string{"--for", "buildkite-v4", "--profile", "container", "--set", "cancel-signal-timeout=5s", "--set", "cancel-cleanup-timeout=20s"}, 1},
		{"nomad: kill_timeout capped by max_kill_timeout", "nomad-capped.txt", []string{"--for", "nomad", "--profile", "kubernetes", "--set", "kill_timeout=60s"}, 1},
		{"nomad: a raised max_kill_timeout", "nomad-raised.txt", []string{"--for", "nomad", "--profile", "kubernetes", "--set", "kill_timeout=60s", "--set", "max_kill_timeout=2m"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := polRun(t, "", append([]string{"plan"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			golden(t, "plan/"+tc.golden, out)
		})
	}
}

// TestPlanJSON: -json prints one object with stable keys, the same plan
// as the text.
func TestPlanJSON(t *testing.T) {
	planEnv(t)
	tests := []struct {
		golden string
		args   []string
		code   int
	}{
		{"kubernetes-process.json", []string{"--for", "kubernetes", "--profile", "process"}, 0},
		{"docker-short.json", []string{"--for", "docker", "--profile", "container", "--set", "stop-timeout=5", "-json"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			out, errOut, code := polRun(t, "", append([]string{"plan", "-json"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			golden(t, "plan/"+tc.golden, out)
			var m map[string]any
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			want := []string{"findings", "fits", "platform", "profile", "settings", "snippet", "timeline"}
			if diff := cmp.Diff(want, keys); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no platform", nil, "--for is required (kubernetes, docker, compose, systemd, buildkite-v3, buildkite-v4, nomad)"},
		{"unknown platform", []string{"--for", "kubernets"}, `unknown platform "kubernets"`},
		{"a misspelt platform gets a suggestion", []string{"--for", "buildkit-v4"}, `did you mean "buildkite-v4"?`},
		{"unknown setting", []string{"--for", "docker", "--set", "stop-timout=5"}, `has no setting "stop-timout" (have: stop-timeout, stop-signal, and grace, signal); did you mean "stop-timeout"?`},
		{"not KEY=VALUE", []string{"--for", "docker", "--set", "5"}, "want KEY=VALUE"},
		{"a bad duration", []string{"--for", "compose", "--set", "grace=soon"}, "not a number of seconds nor a duration"},
		{"a negative grace", []string{"--for", "docker", "--set", "grace=-5"}, "negative"},
		{"a bad signal", []string{"--for", "docker", "--set", "signal=SIGTREM"}, `unknown signal "SIGTREM". Did you mean "SIGTERM"?`},
		{"a setting given twice", []string{"--for", "docker", "--set", "grace=5", "--set", "stop-timeout=6"}, "stop-timeout given twice"},
		{"an argument", []string{"--for", "docker", "extra"}, "plan takes no arguments"},
		{"an unknown profile", []string{"--for", "docker", "--profile", "nope"}, "no profile named nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := polRun(t, "", append([]string{"plan"}, tc.args...)...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, exitUsage, tc.want)
			}
		})
	}
}
