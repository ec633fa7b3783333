package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestSimulate(t *testing.T) {
	buildkite := []string{"--policy", examples + "buildkite.hcl", "--profile", "buildkite"}
	k8s := []string{"--policy", examples + "kubernetes.hcl", "--profile", "kubernetes-ci"}
	gha := []string{"--policy", examples + "github-actions.hcl", "--profile", "github-actions"}
	with := func(base []string, more ...string) []string { return append(append([]string(nil), base...), more...) }
	tests := []struct {
		name   string
		golden string
		args   []string
	}{
		{"buildkite: job exits on SIGTERM", "buildkite-exits-on-term.txt", with(buildkite)},
		{"buildkite: job ignores SIGTERM and is killed", "buildkite-ignores-term.txt", with(buildkite, "--job", "ignores-term")},
		{"buildkite: Ctrl-C drains, second cancels", "buildkite-drain-cancel.txt", with(buildkite, "--job", "exits-after=2s", "--signal", "0s:SIGINT", "--signal", "1.5s:SIGINT")},
		{"buildkite: third Ctrl-C exits now", "buildkite-third-signal.txt", with(buildkite, "--job", "ignores-term", "--signal", "0s:SIGINT", "--signal", "1s:SIGINT", "--signal", "2s:SIGINT")},
		{"buildkite: drained job finishes on its own", "buildkite-drain.txt", with(buildkite, "--job", "exits-at=30s,code=1", "--signal", "5s:SIGTERM")},
		{"kubernetes: job ignores interrupt, abandoned, upload cut at deadline", "kubernetes-ci-never.txt", with(k8s, "--job", "never,exec-takes=40s")},
		{"kubernetes: job stops, upload finishes", "kubernetes-ci-exits.txt", with(k8s, "--job", "exits-after=5s,exec-takes=3s", "--signal", "10s:SIGTERM")},
		{"kubernetes: job finishes on its own, upload hits its timeout", "kubernetes-ci-timeout.txt", with(k8s, "--job", "exits-at=1m,exec-takes=1m", "--signal", "2m:SIGHUP")},
		{"github-actions: job ignores SIGINT and SIGTERM", "github-actions-ignores.txt", with(gha, "--job", "ignores-term")},
		{"github-actions: job exits 8s after SIGINT", "github-actions-exits-after.txt", with(gha, "--job", "exits-after=8s", "--signal", "0s:SIGTERM")},
		{"systemd: stop command runs, job ignores it, killed at the stop timeout", "systemd-ignores.txt", []string{"--policy", examples + "systemd.hcl", "--profile", "systemd", "--job", "ignores-term,exec-takes=5s"}},
		{"systemd: stop command overruns its timeout", "systemd-slow-stop.txt", []string{"--policy", examples + "systemd.hcl", "--profile", "systemd", "--job", "exits-after=20s,exec-takes=10m"}},
		{"ci-with-upload: timeout keeps the job's status, upload runs", "ci-with-upload-timeout.txt", []string{"--policy", examples + "finalize.hcl", "--profile", "ci-with-upload", "--job", "exits-on-term,exec-takes=4s", "--signal", "1m:timeout"}},
		{"process built-in: timeout", "process-timeout.txt", []string{"--signal", "0s:timeout"}},
		{"process built-in: SIGQUIT cancels, job exits a second later", "process-sigquit.txt", []string{"--signal", "0s:SIGQUIT", "--job", "exits-after=1s"}},
		{"kubernetes built-in: events as JSON", "kubernetes.jsonl", []string{"--profile", "kubernetes", "--job", "exits-after=3s", "--signal", "0s:SIGTERM", "--events", "-"}},
		{"container built-in", "container.txt", []string{"--profile", "container", "--job", "exits-on-term", "--signal", "1s:SIGTERM"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCmd(t, append([]string{"simulate"}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "simulate/"+tc.golden, out)
		})
	}
}

func TestSimulateErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown job clause", []string{"--job", "exits-soon"}, `unknown clause "exits-soon"`},
		{"bad signal offset", []string{"--signal", "soon:SIGINT"}, `bad offset "soon"`},
		{"unknown signal", []string{"--signal", "1s:SIGFOO"}, `unknown signal "SIGFOO"`},
		{"unknown profile", []string{"--profile", "nope"}, "no profile named nope"},
		{"SIGKILL to graceful cannot be simulated", []string{"--signal", "1s:SIGKILL"}, "SIGKILL cannot be caught"},
		{"nor SIGSTOP", []string{"--signal", "0s:STOP"}, "SIGSTOP cannot be caught"},
		{"a misspelt signal gets a suggestion", []string{"--signal", "1s:SIGTREM"}, `unknown signal "SIGTREM". Did you mean "SIGTERM"?`},
		{"a misspelt job clause gets a suggestion", []string{"--job", "code=3,exits-aftr=2s"}, `unknown clause "exits-aftr=2s" (want exits-on-term, exits-after=DUR, ignores-term, never, exits-at=DUR, code=N, exec-takes=DUR, exec-fails); did you mean "exits-after"?`},
		{"a bad value of a known clause gets none", []string{"--job", "exits-after=soon"}, `exits-after: time: invalid duration "soon"`},
		{"a misspelt built-in profile gets a suggestion", []string{"--profile", "proces"}, `no profile named proces (have: container, kubernetes, process); did you mean "process"?`},
		{"a misspelt profile of --policy gets a suggestion", []string{"--policy", examples, "--profile", "buildkit"}, `did you mean "buildkite"?`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runCmd(t, append([]string{"simulate"}, tc.args...)...)
			var ee *exitError
			if err == nil || !asExitError(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want usage error containing %q", err, tc.want)
			}
			if strings.Contains(tc.name, "gets none") && strings.Contains(err.Error(), "did you mean") {
				t.Errorf("err = %v; want no suggestion", err)
			}
		})
	}
}

// TestSimulateIsInstant holds simulate of every example to a generous
// bound; docs/performance.md has the measured figures.
func TestSimulateIsInstant(t *testing.T) {
	start := time.Now()
	if _, err := runCmd(t, "simulate", "--policy", examples+"kubernetes.hcl", "--profile", "kubernetes-ci", "--job", "never,exec-takes=40s"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("simulating 115s of virtual time took %v", d)
	}
}

// BenchmarkSimulate is graceful simulate of each example, in-process (the
// whole command: flag parsing, policy loading, the run, the output).
func BenchmarkSimulate(b *testing.B) {
	for _, ex := range []struct{ file, profile string }{
		{"buildkite.hcl", "buildkite"},
		{"kubernetes.hcl", "kubernetes-ci"},
		{"github-actions.hcl", "github-actions"},
	} {
		b.Run(ex.profile, func(b *testing.B) {
			for b.Loop() {
				root := newRootCmd()
				root.SetArgs([]string{"simulate", "--policy", examples + ex.file, "--profile", ex.profile, "--job", "ignores-term,exec-takes=40s"})
				root.SetOut(io.Discard)
				if err := root.Execute(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
