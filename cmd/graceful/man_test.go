package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestManPages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "man1")
	t.Setenv("SOURCE_DATE_EPOCH", "1764720000") // 2025-12-03
	_, errOut, code := polRun(t, "", "man", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	// A page for the root and every visible command; none for the hidden
	// man command itself.
	root := newRootCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		want := "graceful-" + c.Name() + ".1"
		if c.IsAvailableCommand() != slices.Contains(got, want) {
			t.Errorf("page %s: written %v, command visible %v", want, slices.Contains(got, want), c.IsAvailableCommand())
		}
	}
	if !slices.Contains(got, "graceful.1") || slices.Contains(got, "graceful-man.1") {
		t.Errorf("pages: %v", got)
	}

	page, err := os.ReadFile(filepath.Join(dir, "graceful-validate.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`.TH "GRACEFUL\-VALIDATE" 1 "2025\-12\-03" "graceful `,
		".SH NAME\ngraceful\\-validate \\- Check policy files",
		`\fB\-\-format\fR \fIstring\fR`, `(default "text")`,
		".SH EXAMPLES", "graceful validate \\-json policy.hcl.json",
		".BR graceful (1)",
	} {
		if !strings.Contains(string(page), want) {
			t.Errorf("graceful-validate.1 lacks %q:\n%s", want, page)
		}
	}

	// --config is run's and join's alone (docs/configuration.md).
	if strings.Contains(string(page), `\-\-config`) {
		t.Errorf("graceful-validate.1 documents --config:\n%s", page)
	}
	if run, err := os.ReadFile(filepath.Join(dir, "graceful-run.1")); err != nil || !strings.Contains(string(run), `\fB\-\-config\fR \fIstring\fR`) {
		t.Errorf("graceful-run.1 does not document --config: %v\n%s", err, run)
	}

	// groff, where installed, renders every page without a warning.
	if _, err := exec.LookPath("groff"); err != nil {
		t.Log("no groff: pages not rendered")
		return
	}
	for _, name := range got {
		var stderr bytes.Buffer
		cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z", filepath.Join(dir, name))
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("groff %s: %v\n%s", name, err, stderr.String())
		}
	}
}

func TestRoffEscapes(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"hyphens are minus signs", "--policy", `\-\-policy` + "\n"},
		{"backslashes are printed", `a\b`, `a\eb` + "\n"},
		{"a leading dot is no request", ".hcl files", `\&.hcl files` + "\n"},
		{"a leading quote is no request", "'x' is", `\&'x' is` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := roffLine(tt.in); got != tt.want {
				t.Errorf("roffLine(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestManBadSourceDateEpoch(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	_, errOut, code := polRun(t, "", "man", t.TempDir())
	if code != exitUsage || !strings.Contains(errOut, "SOURCE_DATE_EPOCH") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
