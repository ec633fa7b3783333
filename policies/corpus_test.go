package policies

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// noEnv is an empty environment, so tests do not depend on the caller's.
func noEnv(string) (string, bool) { return "", false }

var (
	// In native syntax the expected error is a comment on the offending
	// line: `# ERROR: Unknown signal`.
	// `# WARNING: ...` expects a warning instead.
	hclExpect = regexp.MustCompile(`#\s*(ERROR|WARNING):\s*(.+?)\s*$`)
	// JSON has no comments: a "//" property says where and what.
	jsonExpect = regexp.MustCompile(`"//":\s*"ERROR at line (\d+): ([^"]+)"`)
)

// withPod is a corpus file's `# with --pod PATH` line (PATH relative to
// testdata).
var withPod = regexp.MustCompile(`(?m)^#\s*with --pod (\S+)\s*$`)

type expectation struct {
	line     int
	summary  string
	severity hcl.DiagnosticSeverity
}

func expectationOf(t *testing.T, name string, src []byte) expectation {
	t.Helper()
	var found []expectation
	if IsJSON(name) {
		for _, m := range jsonExpect.FindAllSubmatch(src, -1) {
			n, _ := strconv.Atoi(string(m[1]))
			found = append(found, expectation{n, string(m[2]), hcl.DiagError})
		}
	} else {
		for i, line := range strings.Split(string(src), "\n") {
			if m := hclExpect.FindStringSubmatch(line); m != nil {
				sev := hcl.DiagError
				if m[1] == "WARNING" {
					sev = hcl.DiagWarning
				}
				found = append(found, expectation{i + 1, m[2], sev})
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: want exactly one ERROR or WARNING marker, found %d", name, len(found))
	}
	return found[0]
}

func describe(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		line := 0
		if d.Subject != nil {
			line = d.Subject.Start.Line
		}
		fmt.Fprintf(&b, "\n  line %d: %s: %s", line, d.Summary, d.Detail)
	}
	return b.String()
}

// TestInvalidFiles checks that every file of testdata/invalid-files yields
// exactly the one diagnostic written in it, on the marked line, with the
// marked severity.
func TestInvalidFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid-files/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("only %d invalid files; the corpus should hold at least 40", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := expectationOf(t, f, src)
			opts := Options{LookupEnv: noEnv}
			// `# with --pod PATH` checks the file as validate --pod does.
			if m := withPod.FindSubmatch(src); m != nil {
				pod := filepath.Join("testdata", string(m[1]))
				d, err := PodBudget(pod)
				if err != nil {
					t.Fatal(err)
				}
				opts.CheckBudget, opts.Budget, opts.BudgetSource = true, d, "terminationGracePeriodSeconds of "+pod
			}
			_, diags := Load([]string{f}, opts)
			if len(diags) != 1 {
				t.Fatalf("want 1 diagnostic %q at line %d, got %d:%s", want.summary, want.line, len(diags), describe(diags))
			}
			d := diags[0]
			got := expectation{summary: d.Summary, severity: d.Severity}
			if d.Subject != nil {
				got.line = d.Subject.Start.Line
			}
			if got != want {
				t.Errorf("want %q at line %d, got:%s", want.summary, want.line, describe(diags))
			}
			if d.Subject != nil && d.Subject.Filename != f {
				t.Errorf("diagnostic points into %s, not the file", d.Subject.Filename)
			}
			if d.Detail == "" {
				t.Errorf("%q has no detail saying how to fix it", d.Summary)
			}
		})
	}
}

// TestValidFiles checks that every file of testdata/valid-files and every
// example loads without any diagnostic.
func TestValidFiles(t *testing.T) {
	var files []string
	for _, pat := range []string{"testdata/valid-files/*", "../examples/policies/*"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			pol, diags := Load([]string{f}, Options{LookupEnv: noEnv})
			if len(diags) > 0 {
				t.Fatalf("unexpected diagnostics:\n%s", pol.RenderDiagnostics(diags, 0, false))
			}
			if len(pol.Profiles()) == 0 {
				t.Error("no profiles")
			}
		})
	}
}

// markerRe matches one marker: the text after a `#` of a line that
// carries several, as in `# ERROR: Unknown signal # ERROR: Unknown action`.
var markerRe = regexp.MustCompile(`^\s*(ERROR|WARNING):\s*(.+?)\s*$`)

// expectationsOf returns every marker of a file of several mistakes.
func expectationsOf(name string, src []byte) []expectation {
	var out []expectation
	if IsJSON(name) {
		for _, m := range jsonExpect.FindAllSubmatch(src, -1) {
			n, _ := strconv.Atoi(string(m[1]))
			out = append(out, expectation{n, string(m[2]), hcl.DiagError})
		}
		return out
	}
	for i, line := range strings.Split(string(src), "\n") {
		for _, part := range strings.Split(line, "#")[1:] {
			if m := markerRe.FindStringSubmatch(part); m != nil {
				sev := hcl.DiagError
				if m[1] == "WARNING" {
					sev = hcl.DiagWarning
				}
				out = append(out, expectation{i + 1, m[2], sev})
			}
		}
	}
	return out
}

// TestSeveralMistakes checks that independent mistakes in one file are all
// reported at once (diagnostics are collected, not stopped at the first),
// and that nothing else is: every file of testdata/several-mistakes yields
// exactly the diagnostics marked in it.
func TestSeveralMistakes(t *testing.T) {
	files, err := filepath.Glob("testdata/several-mistakes/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := expectationsOf(f, src)
			if len(want) < 2 {
				t.Fatalf("want at least two markers, found %d", len(want))
			}
			_, diags := Load([]string{f}, Options{LookupEnv: noEnv})
			var got []expectation
			for _, d := range diags {
				e := expectation{summary: d.Summary, severity: d.Severity}
				if d.Subject != nil {
					e.line = d.Subject.Start.Line
				}
				got = append(got, e)
				if d.Detail == "" {
					t.Errorf("%q has no detail saying how to fix it", d.Summary)
				}
			}
			less := func(a, b expectation) int {
				if a.line != b.line {
					return a.line - b.line
				}
				return strings.Compare(a.summary, b.summary)
			}
			slices.SortFunc(want, less)
			slices.SortFunc(got, less)
			if !slices.Equal(got, want) {
				t.Errorf("want %v,\ngot:%s", want, describe(diags))
			}
		})
	}
}
