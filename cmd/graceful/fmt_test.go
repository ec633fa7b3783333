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

// polUglyTwo is polUgly with a second profile after it, for a diff of two
// hunks.
const polUglyTwo = polUgly + `
profile "y" {
  runner = "process"
  on "SIGTERM" { actions = ["cancel"] }
  on "SIGINT" { actions = ["cancel"] }
  on "SIGHUP" { actions = ["ignore"] }
  cancel {
    step "kill" {
      signal = "SIGKILL"
      at     = "1s"
    }
    deadline="2s"
  }
}
`

func TestFmtDiff(t *testing.T) {
	t.Run("-diff names each changed file, prints its diff and writes it", func(t *testing.T) {
		t.Chdir(polWrite(t, map[string]string{"a.hcl": polUglyTwo, "b.hcl": polPretty}))
		out, errOut, code := polRun(t, "", "fmt", "-diff", ".")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		golden(t, "fmt/diff.txt", out)
		if got, _ := os.ReadFile("a.hcl"); string(got) == polUglyTwo {
			t.Error("-diff without -check did not write the file")
		}
	})
	t.Run("-check -diff only looks", func(t *testing.T) {
		t.Chdir(polWrite(t, map[string]string{"a.hcl": polUglyTwo}))
		out, _, code := polRun(t, "", "fmt", "-check", "-diff", "a.hcl")
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		golden(t, "fmt/diff.txt", out)
		if got, _ := os.ReadFile("a.hcl"); string(got) != polUglyTwo {
			t.Error("-check -diff modified the file")
		}
	})
	t.Run("-diff on standard input prints the diff instead of the result", func(t *testing.T) {
		out, _, code := polRun(t, polUgly, "fmt", "--diff", "-")
		if code != 0 {
			t.Errorf("exit %d", code)
		}
		golden(t, "fmt/diff-stdin.txt", out)
	})
	t.Run("-diff of a formatted file is silent", func(t *testing.T) {
		out, _, code := polRun(t, polPretty, "fmt", "-diff", "-")
		if code != 0 || out != "" {
			t.Errorf("exit %d, stdout %q", code, out)
		}
	})
}

func TestFmtRecursive(t *testing.T) {
	tree := func(t *testing.T) string {
		dir := polWrite(t, map[string]string{"top.hcl": polPretty})
		for name, src := range map[string]string{
			"sub/ugly.hcl":          polUgly,
			"sub/deeper/ugly.hcl":   polUgly,
			"sub/deeper/pretty.hcl": polPretty,
			"sub/notes.txt":         "not a policy {",
			".git/ugly.hcl":         polUgly,
		} {
			path := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Chdir(dir)
		return dir
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"-recursive walks subdirectories but not hidden ones", []string{"-check", "-recursive", "."}, 1,
			"sub/deeper/ugly.hcl\nsub/ugly.hcl\n", ""},
		{"without it a directory is its own files only", []string{"-check", "."}, 0, "", ""},
		{"a subdirectory named as an argument is walked too", []string{"-check", "--recursive", "sub/deeper"}, 1,
			"sub/deeper/ugly.hcl\n", ""},
		{"a file named besides its directory is formatted once", []string{"-check", "-recursive", "sub", "sub/ugly.hcl"}, 1,
			"sub/deeper/ugly.hcl\nsub/ugly.hcl\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree(t)
			out, errOut, code := polRun(t, "", append([]string{"fmt"}, tt.args...)...)
			if code != tt.wantCode || filepath.ToSlash(out) != tt.wantOut || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errOut, tt.wantCode, tt.wantOut, tt.wantErr)
			}
		})
	}
	t.Run("-recursive writes the files it names", func(t *testing.T) {
		tree(t)
		if _, errOut, code := polRun(t, "", "fmt", "-recursive", "."); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, name := range []string{"sub/ugly.hcl", "sub/deeper/ugly.hcl"} {
			if got, _ := os.ReadFile(name); string(got) != polPretty {
				t.Errorf("%s not formatted:\n%s", name, got)
			}
		}
		if got, _ := os.ReadFile(".git/ugly.hcl"); string(got) != polUgly {
			t.Error("a file under .git was formatted")
		}
	})
	t.Run("a tree without policy files is a usage error", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := polRun(t, "", "fmt", "-recursive", dir)
		if code != exitUsage || !strings.Contains(errOut, "no policy files") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}
