package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const polUgly = "profile \"x\" {\nrunner=\"process\"\n  cancel {\n  step \"kill\" {\n signal=\"SIGKILL\"\n  at = \"1s\"\n }\n deadline=\"2s\"\n}\n}\n"

const polPretty = "profile \"x\" {\n  runner = \"process\"\n  cancel {\n    step \"kill\" {\n      signal = \"SIGKILL\"\n      at     = \"1s\"\n    }\n    deadline = \"2s\"\n  }\n}\n"

func TestFmtCommand(t *testing.T) {
	t.Run("rewrites an unformatted file and names it", func(t *testing.T) {
		dir := polWrite(t, map[string]string{"a.hcl": polUgly, "b.hcl": polPretty})
		out, errOut, code := polRun(t, "", "fmt", dir)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if want := filepath.Join(dir, "a.hcl") + "\n"; out != want {
			t.Errorf("stdout %q, want %q", out, want)
		}
		got, _ := os.ReadFile(filepath.Join(dir, "a.hcl"))
		if string(got) != polPretty {
			t.Errorf("a.hcl now:\n%s\nwant:\n%s", got, polPretty)
		}
	})
	t.Run("-check lists and does not write", func(t *testing.T) {
		dir := polWrite(t, map[string]string{"a.hcl": polUgly})
		out, _, code := polRun(t, "", "fmt", "-check", dir)
		if code != 1 || !strings.Contains(out, "a.hcl") {
			t.Errorf("exit %d, stdout %q", code, out)
		}
		got, _ := os.ReadFile(filepath.Join(dir, "a.hcl"))
		if string(got) != polUgly {
			t.Error("-check modified the file")
		}
	})
	t.Run("-check on formatted files succeeds silently", func(t *testing.T) {
		dir := polWrite(t, map[string]string{"b.hcl": polPretty})
		out, _, code := polRun(t, "", "fmt", "--check", dir)
		if code != 0 || out != "" {
			t.Errorf("exit %d, stdout %q", code, out)
		}
	})
	t.Run("refuses a file that does not parse", func(t *testing.T) {
		dir := polWrite(t, map[string]string{"bad.hcl": "profile \"x\" {\n"})
		_, errOut, code := polRun(t, "", "fmt", dir)
		// The position reads as validate's: FILE:LINE:COLUMN.
		if code != 1 || !strings.Contains(errOut, "Unclosed configuration block") || !strings.Contains(errOut, "does not parse") ||
			!strings.Contains(errOut, "on "+filepath.Join(dir, "bad.hcl")+":1:13") {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
		got, _ := os.ReadFile(filepath.Join(dir, "bad.hcl"))
		if string(got) != "profile \"x\" {\n" {
			t.Error("a file that does not parse was modified")
		}
	})
	t.Run("re-indents JSON syntax", func(t *testing.T) {
		dir := polWrite(t, map[string]string{"a.hcl.json": `{"profile": {"x": {"runner": "process"}}}`})
		_, _, code := polRun(t, "", "fmt", dir)
		got, _ := os.ReadFile(filepath.Join(dir, "a.hcl.json"))
		want := "{\n  \"profile\": {\n    \"x\": {\n      \"runner\": \"process\"\n    }\n  }\n}\n"
		if code != 0 || string(got) != want {
			t.Errorf("exit %d, file:\n%s", code, got)
		}
	})
	t.Run("refuses JSON that does not parse", func(t *testing.T) {
		dir := polWrite(t, map[string]string{"a.hcl.json": `{"profile": `})
		_, errOut, code := polRun(t, "", "fmt", dir)
		if code != 1 || !strings.Contains(errOut, "does not parse") || !strings.Contains(errOut, "on "+filepath.Join(dir, "a.hcl.json")+":1:") {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
	})
	t.Run("standard input to standard output", func(t *testing.T) {
		out, _, code := polRun(t, polUgly, "fmt", "-")
		if code != 0 || out != polPretty {
			t.Errorf("exit %d, stdout:\n%s", code, out)
		}
	})
	t.Run("a missing path is a usage error", func(t *testing.T) {
		if _, _, code := polRun(t, "", "fmt", "no-such.hcl"); code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
	})
}
