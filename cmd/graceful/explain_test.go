package main

import (
	"strings"
	"testing"
)

const examples = "../../examples/policies/"

func TestExplain(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		args   []string
	}{
		{"built-in process profile", "process.txt", []string{"--profile", "process"}},
		{"default profile is process", "process.txt", nil},
		{"built-in kubernetes profile", "kubernetes.txt", []string{"--profile", "kubernetes"}},
		{"built-in container profile", "container.txt", []string{"--profile", "container"}},
		{"process as mermaid", "process.mermaid", []string{"--profile", "process", "--format", "mermaid"}},
		{"process as graphviz", "process.dot", []string{"--profile", "process", "--format", "dot"}},
		{"formats are case-insensitive", "process.mermaid", []string{"--profile", "process", "--format", "Mermaid"}},
		{"kubernetes as mermaid", "kubernetes.mermaid", []string{"--profile", "kubernetes", "--format", "mermaid"}},
		{"buildkite example", "buildkite.txt", []string{"--policy", examples + "buildkite.hcl", "--profile", "buildkite"}},
		{"buildkite example as mermaid", "buildkite.mermaid", []string{"--policy", examples + "buildkite.hcl", "--profile", "buildkite", "--format", "mermaid"}},
		{"kubernetes example with finalisation", "kubernetes-ci.txt", []string{"--policy", examples + "kubernetes.hcl", "--profile", "kubernetes-ci"}},
		{"kubernetes example as graphviz", "kubernetes-ci.dot", []string{"--policy", examples + "kubernetes.hcl", "--profile", "kubernetes-ci", "--format", "dot"}},
		{"github-actions example", "github-actions.txt", []string{"--policy", examples + "github-actions.hcl", "--profile", "github-actions"}},
		{"systemd example with an ExecStop-like command step", "systemd.txt", []string{"--policy", examples + "systemd.hcl", "--profile", "systemd"}},
		{"systemd example as mermaid", "systemd.mermaid", []string{"--policy", examples + "systemd.hcl", "--profile", "systemd", "--format", "mermaid"}},
		{"finalize example extending process", "ci-with-upload.txt", []string{"--policy", examples + "finalize.hcl", "--profile", "ci-with-upload"}},
		{"github-actions example as mermaid", "github-actions.mermaid", []string{"--policy", examples + "github-actions.hcl", "--profile", "github-actions", "--format", "mermaid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCmd(t, append([]string{"explain"}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "explain/"+tc.golden, out)
		})
	}
}

func TestExplainErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown profile", []string{"--profile", "nope"}, "no profile named nope (have: container, kubernetes, process)\n"},
		{"a misspelt profile gets a suggestion", []string{"--profile", "kubernets"}, `no profile named kubernets (have: container, kubernetes, process); did you mean "kubernetes"?`},
		{"a synonym of a built-in gets a suggestion", []string{"--profile", "docker"}, `; did you mean "container"?`},
		{"a misspelt profile of --policy gets a suggestion", []string{"--policy", examples + "kubernetes.hcl", "--profile", "kubernetes-cl"}, `; did you mean "kubernetes-ci"?`},
		{"unknown format", []string{"--format", "svg"}, `unknown --format "svg"`},
		{"a misspelt format gets a suggestion", []string{"--format", "mermiad"}, `unknown --format "mermiad" (want text, mermaid or dot); did you mean "mermaid"?`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runCmd(t, append([]string{"explain"}, tc.args...)...)
			var ee *exitError
			// "\n" in want marks the end of the message.
			if err == nil || !asExitError(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error()+"\n", tc.want) {
				t.Fatalf("err = %v; want usage error containing %q", err, tc.want)
			}
		})
	}
}

// TestBrokenPolicyIsReportedLikeValidate: explain and simulate print a
// policy's diagnostics as validate does (file:line:column, snippet, no
// "graceful: Error:" run-on) and exit 1, as validate and profiles do; a
// missing path stays a usage error.
func TestBrokenPolicyIsReportedLikeValidate(t *testing.T) {
	dir := polWrite(t, map[string]string{"bad.hcl": polBadSignal})
	for _, sub := range []string{"explain", "simulate"} {
		t.Run(sub, func(t *testing.T) {
			out, errOut, code := polRun(t, "", sub, "--policy", dir)
			if code != exitFindings {
				t.Errorf("exit %d, want %d", code, exitFindings)
			}
			if out != "" {
				t.Errorf("stdout: %q", out)
			}
			for _, w := range []string{"Error: Unknown signal", "bad.hcl:3:6", `on "SIGTREM"`, "does not load (1 error)"} {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(errOut, "graceful: Error") {
				t.Errorf("diagnostics run on from the program name:\n%s", errOut)
			}
			if _, _, code := polRun(t, "", sub, "--policy", dir+"/missing.hcl"); code != exitUsage {
				t.Errorf("missing policy: exit %d, want %d", code, exitUsage)
			}
		})
	}
}

// TestWarningsAreShownButDoNotStop: a policy with only warnings is
// explained and simulated, and the warnings go to stderr.
func TestWarningsAreShownButDoNotStop(t *testing.T) {
	dir := polWrite(t, map[string]string{"warn.hcl": `profile "quiet" {
  on "SIGHUP" { actions = ["ignore"] }
  cancel {
    step "kill" {
      at     = "1s"
      signal = "SIGKILL"
    }
    deadline = "2s"
  }
}
`})
	for _, sub := range []string{"explain", "simulate"} {
		t.Run(sub, func(t *testing.T) {
			out, errOut, code := polRun(t, "", sub, "--policy", dir)
			if code != 0 || !strings.Contains(out, "kill") {
				t.Errorf("exit %d, stdout:\n%s", code, out)
			}
			if !strings.Contains(errOut, "Warning: No signal stops graceful") {
				t.Errorf("stderr lacks the warning:\n%s", errOut)
			}
		})
	}
}

// TestProfileDefaultInHelp: explain --help and simulate --help say which
// profile is used without --profile (TestProfileDefault shows it is so).
func TestProfileDefaultInHelp(t *testing.T) {
	for _, sub := range []string{"explain", "simulate"} {
		t.Run(sub, func(t *testing.T) {
			out, _, code := polRun(t, "", sub, "--help")
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			for _, want := range []string{
				`profile to ` + sub + ` (default: the only profile of --policy if it defines one, else "process")`,
				`Without --profile: with no --policy, the built-in "process"; with --policy,
the only profile the policy defines when it defines exactly one`,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("--help lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestProfileDefault: the default profile is the one the help describes.
func TestProfileDefault(t *testing.T) {
	one := polWrite(t, map[string]string{"one.hcl": polPretty})
	two := polWrite(t, map[string]string{"two.hcl": polPretty + strings.ReplaceAll(polPretty, `"x"`, `"y"`)})
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no policy: process", nil, `profile "process"`},
		{"a policy of one profile: that one", []string{"--policy", one}, `profile "x"`},
		{"a policy of two profiles: process", []string{"--policy", two}, `profile "process"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := polRun(t, "", append([]string{"explain"}, tt.args...)...)
			if code != 0 || !strings.HasPrefix(out, tt.want) {
				t.Errorf("exit %d, stdout starts %q, want %q; stderr %s", code, firstLine(out), tt.want, errOut)
			}
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
