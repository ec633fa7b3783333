package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// complete runs cobra's hidden __complete command, as the shell scripts
// of graceful completion do, and returns the offered values (without
// descriptions) and the directive line.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	out, errOut, code := polRun(t, "", append([]string{"__complete"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var values []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, ":") {
			return values, line
		}
		value, _, _ := strings.Cut(line, "\t")
		values = append(values, value)
	}
	t.Fatalf("no directive in %q", out)
	return nil, ""
}

const (
	noFile        = ":4" // ShellCompDirectiveNoFileComp
	noSpaceNoFile = ":6" // and ShellCompDirectiveNoSpace
	filterExt     = ":8" // ShellCompDirectiveFilterFileExt
	fileNames     = ":0" // ShellCompDirectiveDefault
	builtinsLine  = "container kubernetes process"
	allExamples   = "buildkite buildkite-v4 ci-with-upload container docker github-actions kubernetes kubernetes-30s kubernetes-ci kubernetes-drain process systemd timeout"
)

func TestCompletion(t *testing.T) {
	tests := []struct {
		name          string
		args          []string
		want          string // values, space-separated
		wantDirective string
	}{
		{"explain --profile: the built-ins", []string{"explain", "--profile", ""}, builtinsLine, noFile},
		{"simulate --profile: the built-ins", []string{"simulate", "--profile", ""}, builtinsLine, noFile},
		{"run --profile: the built-ins", []string{"run", "--profile", ""}, builtinsLine, noFile},
		{"--profile after --policy: its profiles too", []string{"explain", "--policy", examples, "--profile", ""}, allExamples, noFile},
		{"--profile after a broken --policy: its valid profiles", []string{"simulate", "--policy", "BROKEN", "--profile", ""}, "container good kubernetes process", noFile},
		{"--policy: policy files", []string{"explain", "--policy", ""}, "hcl json", filterExt},
		{"explain --format", []string{"explain", "--format", ""}, "text mermaid dot", noFile},
		{"validate --format, parsed Go-style by validate itself", []string{"validate", "--format", ""}, "text json github", noFile},
		{"validate -format", []string{"validate", "-json", "-format", ""}, "text json github", noFile},
		{"validate --format=", []string{"validate", "--format=gi"}, "--format=text --format=json --format=github", noFile},
		{"validate's arguments are files", []string{"validate", ""}, "", fileNames},
		{"a boolean flag takes no value: files", []string{"validate", "-json", ""}, "", fileNames},
		{"profiles -show: the built-ins", []string{"profiles", "-show", ""}, builtinsLine, noFile},
		{"profiles --policy: policy files", []string{"profiles", "--policy", ""}, "hcl json", filterExt},
		{"profiles takes no arguments", []string{"profiles", ""}, "", noFile},
		{"run --cgroup", []string{"run", "--cgroup", ""}, "auto on off", noFile},
		{"join --cgroup", []string{"join", "--cgroup", ""}, "auto on off", noFile},
		{"simulate --signal: an offset first", []string{"simulate", "--signal", ""}, "0s: 1s:", noSpaceNoFile},
		{"simulate --signal: a typed offset gets its colon", []string{"simulate", "--signal", "1.5s"}, "1.5s:", noSpaceNoFile},
		{"simulate --job: the next clause", []string{"simulate", "--job", "code=2,"},
			"code=2,exits-on-term code=2,exits-after= code=2,ignores-term code=2,never code=2,exits-at= code=2,code= code=2,exec-takes= code=2,exec-fails", noSpaceNoFile},
	}
	broken := polWrite(t, map[string]string{"p.hcl": polBadSignal + strings.ReplaceAll(polPretty, `"x"`, `"good"`)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, a := range tt.args {
				if a == "BROKEN" {
					tt.args[i] = broken
				}
			}
			got, directive := complete(t, tt.args...)
			if diff := cmp.Diff(tt.want, strings.Join(got, " ")); diff != "" || directive != tt.wantDirective {
				t.Errorf("values (-want +got):\n%s\ndirective %s, want %s", diff, directive, tt.wantDirective)
			}
		})
	}
}

// TestCompletionOfSignals: after the colon come the signals graceful can
// catch, and the two other inputs; never SIGKILL or SIGSTOP, which
// simulate refuses.
func TestCompletionOfSignals(t *testing.T) {
	got, directive := complete(t, "simulate", "--signal", "2s:SIG")
	if directive != noFile {
		t.Errorf("directive %s", directive)
	}
	for _, want := range []string{"2s:SIGTERM", "2s:SIGINT", "2s:SIGQUIT", "2s:SIGHUP", "2s:SIGUSR1", "2s:cancel", "2s:timeout"} {
		if !strings.Contains(strings.Join(got, " ")+" ", want+" ") {
			t.Errorf("lacks %s: %v", want, got)
		}
	}
	for _, never := range []string{"2s:SIGKILL", "2s:SIGSTOP"} {
		if strings.Contains(strings.Join(got, " ")+" ", never+" ") {
			t.Errorf("offers %s", never)
		}
	}
}
