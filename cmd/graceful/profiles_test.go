package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestProfilesCommand(t *testing.T) {
	t.Run("lists the built-ins", func(t *testing.T) {
		out, _, code := polRun(t, "", "profiles")
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		for _, w := range []string{"NAME", "process", "kubernetes", "container", "built-in"} {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
	})
	t.Run("with --policy adds the file's profiles", func(t *testing.T) {
		out, _, code := polRun(t, "", "profiles", "--policy", "../../examples/policies")
		if code != 0 || !strings.Contains(out, "github-actions    process     11s") || !strings.Contains(out, "examples/policies/github-actions.hcl") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
	t.Run("a replaced built-in is marked", func(t *testing.T) {
		out, _, code := polRun(t, "", "profiles", "--policy", "../../policies/testdata/valid-files/shadow-builtin.hcl")
		if code != 0 || !strings.Contains(out, "built-in, replaced") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
	t.Run("a broken policy prints its diagnostics", func(t *testing.T) {
		dir := polWrite(t, map[string]string{"bad.hcl": polBadSignal})
		_, errOut, code := polRun(t, "", "profiles", "--policy", dir)
		if code != 1 || !strings.Contains(errOut, "Unknown signal") {
			t.Errorf("exit %d:\n%s", code, errOut)
		}
	})
	t.Run("--json speaks the policy language: its names and duration strings", func(t *testing.T) {
		out, _, code := polRun(t, "", "profiles", "--json", "--policy", "../../examples/policies/kubernetes.hcl")
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		var got []map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		var process, k8s map[string]any
		for _, p := range got {
			switch p["name"] {
			case "process":
				process = p
			case "kubernetes-ci":
				k8s = p
			}
		}
		if process == nil || k8s == nil {
			t.Fatalf("missing profiles:\n%s", out)
		}
		want := `{"name":"process","source":"built-in","description":"Local process tree, Buildkite agent defaults: SIGTERM to the group, SIGKILL to the tree at 9s, deadline 10s","runner":"process",` +
			`"on":{"SIGHUP":["ignore"],"SIGINT":["drain","cancel","exit"],"SIGQUIT":["cancel"],"SIGTERM":["drain","cancel","exit"]},` +
			`"steps":[{"name":"interrupt","at":"0s","signal":"SIGTERM","target":"group"},{"name":"kill","at":"9s","signal":"SIGKILL","target":"tree"}],` +
			`"deadline":"10s","exit_codes":{"abandoned":123,"timeout":124}}`
		var wantMap map[string]any
		if err := json.Unmarshal([]byte(want), &wantMap); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantMap, process); diff != "" {
			t.Errorf("process (-want +got):\n%s", diff)
		}
		if k8s["budget"] != "2m" || k8s["finalize"] == nil || !strings.Contains(out, `"abandon": true`) {
			t.Errorf("kubernetes-ci: %v", k8s)
		}
	})
	t.Run("-json and -show are accepted Go-style, as validate's", func(t *testing.T) {
		long, _, code := polRun(t, "", "profiles", "--json")
		short, _, code2 := polRun(t, "", "profiles", "-json")
		if code != 0 || code2 != 0 || !strings.HasPrefix(short, "[") || short != long {
			t.Errorf("exit %d, %d; -json printed:\n%s\n--json printed:\n%s", code, code2, short, long)
		}
		out, _, code := polRun(t, "", "profiles", "-show=container")
		if code != 0 || !strings.Contains(out, `profile "container"`) {
			t.Errorf("-show=container: exit %d:\n%s", code, out)
		}
	})
	t.Run("an argument is a usage error", func(t *testing.T) {
		_, errOut, code := polRun(t, "", "profiles", "examples/policies")
		if code != exitUsage || !strings.Contains(errOut, "--policy") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("--show of a misspelt built-in gets a suggestion", func(t *testing.T) {
		_, errOut, code := polRun(t, "", "profiles", "--show", "contianer")
		if want := `no built-in profile named contianer (have: container, kubernetes, process); did you mean "container"?`; code != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, want)
		}
	})
	t.Run("--show prints a built-in's source", func(t *testing.T) {
		out, _, code := polRun(t, "", "profiles", "--show", "kubernetes")
		if code != 0 || !strings.Contains(out, `profile "kubernetes"`) {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
}
