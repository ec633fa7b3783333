package main

import (
	"strings"
	"testing"
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
		if code != 0 || !strings.Contains(out, "github-actions  process     11s") || !strings.Contains(out, "examples/policies/github-actions.hcl") {
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
	t.Run("--show prints a built-in's source", func(t *testing.T) {
		out, _, code := polRun(t, "", "profiles", "--show", "kubernetes")
		if code != 0 || !strings.Contains(out, `profile "kubernetes"`) {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
}
