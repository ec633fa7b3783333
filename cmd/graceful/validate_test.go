package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

// polRun runs the graceful command tree in-process and returns its output
// and the exit status main would use.
func polRun(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(stdin))
	err := root.Execute()
	code = 0
	if err != nil {
		var ec *exitError
		if errors.As(err, &ec) {
			code = ec.code
			if ec.err != nil && !ec.quiet {
				errb.WriteString("graceful: " + ec.err.Error() + "\n")
			}
		} else {
			code = exitUsage
			errb.WriteString("graceful: " + err.Error() + "\n")
		}
	}
	return out.String(), errb.String(), code
}

// polWrite writes files into a fresh directory and returns it.
func polWrite(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const polBadSignal = `profile "x" {
  on "SIGTERM" { actions = ["cancel"] }
  on "SIGTREM" { actions = ["cancel"] }
  cancel {
    step "kill" {
      signal = "SIGKILL"
      at     = "5s"
    }
    deadline = "10s"
  }
}
`

const polK8s = `profile "pod" {
  runner = "kubernetes"
  on "SIGTERM" { actions = ["cancel"] }
  cancel {
    step "interrupt" { notify = "interrupt" }
    step "abandon" {
      at      = "20s"
      abandon = true
    }
    deadline = "25s"
  }
}
`

func TestValidateCommand(t *testing.T) {
	bad := polWrite(t, map[string]string{"bad.hcl": polBadSignal})
	k8s := polWrite(t, map[string]string{
		"pod.hcl": polK8s,
		"pod20.yaml": `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  terminationGracePeriodSeconds: 20
  containers: [{name: c, image: busybox}]
`,
		"deploy.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      containers: [{name: c, image: busybox}]
`,
		"svc.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n",
	})
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{"the examples are clean", []string{"validate", "../../examples/policies"}, 0, []string{"ok: "}, nil},
		{"a file named twice is loaded once", []string{"validate", "../../examples/policies", "../../examples/policies/buildkite.hcl", "../../examples/policies/"}, 0, []string{"ok: 10 valid profiles in 9 files"}, nil},
		{"a warning is printed but does not fail", []string{"validate", "../../policies/testdata/invalid-files/no-signal-stops.hcl"}, 0,
			[]string{"Warning: No signal stops graceful", "0 errors, 1 warning; 1 valid profile in 1 file"}, nil},
		{"no arguments checks the built-ins", []string{"validate"}, 0, []string{"ok: 3 valid built-in profiles"}, nil},
		{"a misspelt signal is a finding with position and suggestion", []string{"validate", filepath.Join(bad, "bad.hcl")}, 1,
			[]string{"Error: Unknown signal", "bad.hcl:3:6", `Did you mean "SIGTERM"?`, "1 error, 0 warnings"}, nil},
		{"a directory is read whole", []string{"validate", bad}, 1, []string{"Unknown signal"}, nil},
		{"a missing file is a usage error", []string{"validate", "no-such-file.hcl"}, 2, nil, []string{"no-such-file.hcl"}},
		{"an unknown flag is a usage error", []string{"validate", "--nope"}, 2, nil, []string{"unknown flag"}},
		{"a misspelt Go-style flag is named whole, with a suggestion", []string{"validate", "-jsno"}, 2, nil, []string{"unknown flag: --jsno; did you mean --json?"}},
		{"a deadline over --budget is a finding", []string{"validate", "--budget", "5s"}, 1, []string{"Deadline over budget", "--budget 5s"}, nil},
		{"a bad --budget is a usage error", []string{"validate", "--budget", "soon"}, 2, nil, []string{"--budget"}},
		{"--budget and --pod together are a usage error", []string{"validate", "--budget", "5s", "--pod", "x.yaml"}, 2, nil, []string{"not both"}},
		{"a pod's grace period is the budget", []string{"validate", "--pod", filepath.Join(k8s, "pod20.yaml"), filepath.Join(k8s, "pod.hcl")}, 1,
			[]string{"Deadline over budget", "terminationGracePeriodSeconds 20s"}, nil},
		{"a pod template without a grace period gets 30s", []string{"validate", "--pod", filepath.Join(k8s, "deploy.yaml"), filepath.Join(k8s, "pod.hcl")}, 0, []string{"ok: 1 valid profile in 1 file"}, nil},
		{"a manifest without a pod spec is a usage error", []string{"validate", "--pod", filepath.Join(k8s, "svc.yaml")}, 2, nil, []string{"no pod spec"}},
		{"go-style -budget works", []string{"validate", "-budget=5s"}, 1, []string{"Deadline over budget"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := polRun(t, "", tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestValidateJSON(t *testing.T) {
	bad := filepath.Join(polWrite(t, map[string]string{"bad.hcl": polBadSignal}), "bad.hcl")
	for _, args := range [][]string{{"-json"}, {"--json"}, {"--format", "json"}, {"-format=json"}, {"-json", "--format", "json"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, _, code := polRun(t, "", append(append([]string{"validate"}, args...), bad)...)
			if code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			var rep jsonReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			if len(rep.Diagnostics) != 1 {
				t.Fatalf("diagnostics: %+v", rep.Diagnostics)
			}
			got := rep.Diagnostics[0]
			context := `profile "x"`
			want := jsonDiagnostic{
				Severity: "error",
				Summary:  "Unknown signal",
				Detail:   `"SIGTREM" is not a signal name. Did you mean "SIGTERM"?`,
				Range: &jsonRange{
					Filename: bad,
					Start:    jsonPos{Line: 3, Column: 6, Byte: 59},
					End:      jsonPos{Line: 3, Column: 15, Byte: 68},
				},
				Snippet: &jsonSnippet{
					Context:              &context,
					Code:                 `  on "SIGTREM" { actions = ["cancel"] }`,
					StartLine:            3,
					HighlightStartOffset: 5, // the quoted "SIGTREM"
					HighlightEndOffset:   14,
					Values:               []jsonValueEntry{},
				},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("diagnostic (-want +got):\n%s", diff)
			}
			wantTop := jsonReport{FormatVersion: "1.0", Valid: false, ErrorCount: 1, WarningCount: 0, Files: []string{bad}, Profiles: []string{}}
			rep.Diagnostics = nil
			if diff := cmp.Diff(wantTop, rep); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
		})
	}
}

// polSnippets has a misspelt runner below a line of multi-byte
// characters.
const polSnippets = `profile "x" {
  description = "ünïcödé"
  runner = "procss"
  on "SIGTERM" { actions = ["cancel"] }
  cancel {
    step "kill" {
      signal = "SIGKILL"
      at     = "5s"
    }
    deadline = "10s"
  }
}
`

func TestValidateJSONSnippet(t *testing.T) {
	path := filepath.Join(polWrite(t, map[string]string{"s.hcl": polSnippets}), "s.hcl")
	out, _, code := polRun(t, "", "validate", "-json", path)
	if code != 1 {
		t.Fatalf("exit status %d, want 1:\n%s", code, out)
	}
	var rep jsonReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(rep.Diagnostics) == 0 || rep.Diagnostics[0].Snippet == nil {
		t.Fatalf("no snippet:\n%s", out)
	}
	sn := rep.Diagnostics[0].Snippet
	// The highlight, cut from Code by character offsets, is the range's
	// source: the misspelt runner.
	runes := []rune(sn.Code)
	if got := string(runes[sn.HighlightStartOffset:sn.HighlightEndOffset]); got != `"procss"` || sn.StartLine != 3 {
		t.Errorf("highlight %q at line %d, want \"procss\" at 3; snippet %+v", got, sn.StartLine, sn)
	}
}

func TestSnippetOf(t *testing.T) {
	src := []byte("profile \"ä\" {\n  a = 1\n  b = [\n    2,\n  ]\n}\n")
	f := &hcl.File{Bytes: src}
	pos := func(line, col, b int) hcl.Pos { return hcl.Pos{Line: line, Column: col, Byte: b} }
	tests := []struct {
		name string
		r    hcl.Range
		want *jsonSnippet
	}{
		{"a range on one line is that line",
			hcl.Range{Start: pos(2, 3, 17), End: pos(2, 4, 18)},
			&jsonSnippet{Code: "  a = 1", StartLine: 2, HighlightStartOffset: 2, HighlightEndOffset: 3}},
		{"a range over lines is all of them",
			hcl.Range{Start: pos(3, 7, 29), End: pos(5, 4, 41)},
			&jsonSnippet{Code: "  b = [\n    2,\n  ]", StartLine: 3, HighlightStartOffset: 6, HighlightEndOffset: 18}},
		{"offsets count characters, not bytes",
			hcl.Range{Start: pos(1, 9, 8), End: pos(1, 12, 12)},
			&jsonSnippet{Code: "profile \"ä\" {", StartLine: 1, HighlightStartOffset: 8, HighlightEndOffset: 11}},
		{"a range that ends with its newline stays on its line",
			hcl.Range{Start: pos(2, 1, 15), End: pos(3, 1, 23)},
			&jsonSnippet{Code: "  a = 1", StartLine: 2, HighlightStartOffset: 0, HighlightEndOffset: 7}},
		{"a range past the source has no snippet",
			hcl.Range{Start: pos(9, 1, 100), End: pos(9, 2, 101)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := snippetOf(f, tt.r)
			if got != nil {
				got.Values = nil
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestValidateJSONHasTerraformShape checks validate -json against
// testdata/validate/terraform-format.json, an example document written
// from terraform validate -json's documented format: every property the
// example has, graceful's report has with the same JSON type (optional
// ones, such as a diagnostic's range and snippet, only where present), and
// graceful adds nothing but its own top-level "files" and "profiles".
func TestValidateJSONHasTerraformShape(t *testing.T) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "validate", "terraform-format.json"))
	if err != nil {
		t.Fatal(err)
	}
	var example any
	if err := json.Unmarshal(fixture, &example); err != nil {
		t.Fatal(err)
	}
	schema := shapeOf(example)

	bad := filepath.Join(polWrite(t, map[string]string{"bad.hcl": polBadSignal}), "bad.hcl")
	warn := "../../policies/testdata/invalid-files/no-signal-stops.hcl"
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"an error", []string{bad}},
		{"a warning", []string{warn}},
		{"clean", []string{"../../examples/policies"}},
		{"built-ins over a budget", []string{"--budget", "5s"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, _, _ := polRun(t, "", append([]string{"validate", "-json"}, tt.args...)...)
			var got any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			problems := schema.check(got, "$", map[string]bool{"$.files": true, "$.profiles": true})
			for _, p := range problems {
				t.Error(p)
			}
			if tt.name != "clean" && !strings.Contains(out, `"snippet": {`) {
				t.Errorf("no diagnostic with a snippet to check:\n%s", out)
			}
		})
	}
	t.Run("the check catches a wrong type", func(t *testing.T) {
		var got any
		_ = json.Unmarshal([]byte(`{"format_version": 1, "valid": false, "error_count": 0, "warning_count": 0, "diagnostics": [], "extra": true}`), &got)
		if n := len(schema.check(got, "$", nil)); n != 2 {
			t.Errorf("%d problems, want 2 (format_version's type, extra)", n)
		}
	})
}

// shape is the JSON type of a value of an example document; for an object
// its properties (required: present in every example object), for an
// array the union of its elements' shapes.
type shape struct {
	kind     string // object, array, string, number, bool, null
	nullable bool
	props    map[string]*shape
	required map[string]bool
	elem     *shape
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "null"
}

func shapeOf(v any) *shape {
	s := &shape{kind: jsonKind(v)}
	switch v := v.(type) {
	case map[string]any:
		s.props, s.required = map[string]*shape{}, map[string]bool{}
		for k, e := range v {
			s.props[k], s.required[k] = shapeOf(e), true
		}
	case []any:
		for _, e := range v {
			s.elem = s.elem.merge(shapeOf(e))
		}
	}
	return s
}

// merge unites two shapes of the same place in the example.
func (s *shape) merge(o *shape) *shape {
	switch {
	case s == nil:
		return o
	case s.kind == "null":
		o.nullable = true
		return o
	case o.kind == "null":
		s.nullable = true
		return s
	}
	if s.kind == "object" && o.kind == "object" {
		for k, p := range o.props {
			s.props[k] = s.props[k].merge(p)
		}
		for k := range s.props {
			s.required[k] = s.required[k] && o.required[k]
		}
	}
	if s.kind == "array" && o.kind == "array" && o.elem != nil {
		s.elem = s.elem.merge(o.elem)
	}
	return s
}

// check returns what in v does not fit s, by JSON path; extra names the
// paths of properties v may have beyond the example's.
func (s *shape) check(v any, path string, extra map[string]bool) []string {
	k := jsonKind(v)
	if k == "null" && s.nullable {
		return nil
	}
	if k != s.kind {
		return []string{fmt.Sprintf("%s: %s, want %s", path, k, s.kind)}
	}
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for name, p := range s.props {
			if e, ok := v[name]; ok {
				out = append(out, p.check(e, path+"."+name, extra)...)
			} else if s.required[name] {
				out = append(out, fmt.Sprintf("%s.%s: missing", path, name))
			}
		}
		for name := range v {
			if s.props[name] == nil && !extra[path+"."+name] {
				out = append(out, fmt.Sprintf("%s.%s: not in terraform's format", path, name))
			}
		}
	case []any:
		for i, e := range v {
			if s.elem != nil {
				out = append(out, s.elem.check(e, fmt.Sprintf("%s[%d]", path, i), extra)...)
			}
		}
	}
	return out
}

// TestValidateJSONIsReadable: -json does not escape <, > and & (the
// built-ins' file names, "->" in an extends cycle) as \u003c..., so the
// report reads as it prints.
func TestValidateJSONIsReadable(t *testing.T) {
	out, _, code := polRun(t, "", "validate", "-json", "--budget", "30s")
	if code != 1 {
		t.Fatalf("exit status %d, want 1:\n%s", code, out)
	}
	if !strings.Contains(out, `"filename": "<builtin>/kubernetes.hcl"`) || strings.Contains(out, `\u003c`) {
		t.Errorf("escaped output:\n%s", out)
	}
}

func TestValidateGitHub(t *testing.T) {
	dir := polWrite(t, map[string]string{"bad.hcl": polBadSignal})
	t.Chdir(dir) // GitHub wants paths from the repository's root, as given
	out, _, code := polRun(t, "", "validate", "--format", "github", "bad.hcl")
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	want := `::error file=bad.hcl,line=3,col=6,endLine=3,endColumn=14,title=Unknown signal::"SIGTREM" is not a signal name. Did you mean "SIGTERM"?
1 error, 0 warnings; 0 valid profiles in 1 file
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestWriteDiagnosticsGitHub(t *testing.T) {
	rng := func(file string, l1, c1, l2, c2 int) *hcl.Range {
		return &hcl.Range{Filename: file, Start: hcl.Pos{Line: l1, Column: c1}, End: hcl.Pos{Line: l2, Column: c2}}
	}
	tests := []struct {
		name string
		diag *hcl.Diagnostic
		want string
	}{
		{"a warning on one line",
			&hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "No signal stops graceful", Detail: "Add a trigger.", Subject: rng("p.hcl", 1, 1, 1, 12)},
			"::warning file=p.hcl,line=1,col=1,endLine=1,endColumn=11,title=No signal stops graceful::Add a trigger.\n"},
		{"a range over lines has no columns",
			&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "S", Detail: "D", Subject: rng("p.hcl", 2, 3, 4, 2)},
			"::error file=p.hcl,line=2,endLine=4,title=S::D\n"},
		{"properties escape % CR LF : and ,; the message % CR LF",
			&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "a: b, 100%", Detail: "line 1\r\nline 2: 50%, done", Subject: rng("dir,x/a:b.hcl", 1, 1, 1, 2)},
			"::error file=dir%2Cx/a%3Ab.hcl,line=1,col=1,endLine=1,endColumn=1,title=a%3A b%2C 100%25::line 1%0D%0Aline 2: 50%25, done\n"},
		{"no detail: the summary is the message",
			&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read policy"},
			"::error title=Cannot read policy::Cannot read policy\n"},
		{"a built-in is named in the message, not annotated",
			&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Deadline over budget", Detail: "Too long.", Subject: rng("<builtin>/process.hcl", 20, 5, 20, 22)},
			"::error title=Deadline over budget::<builtin>/process.hcl:20:5: Too long.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			writeDiagnosticsGitHub(&b, hcl.Diagnostics{tt.diag})
			if diff := cmp.Diff(tt.want, b.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateFormatErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"an unknown format gets a suggestion", []string{"--format", "githb"}, `unknown --format "githb" (want text, json or github); did you mean "github"?`},
		{"-json with another format", []string{"-json", "--format", "github"}, "-json and --format github: give one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := polRun(t, "", append([]string{"validate"}, tt.args...)...)
			if code != exitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
		})
	}
}

// TestValidateJSONSnippetsOfCorpus: over every diagnostic the invalid
// corpus gives, the highlight lies in the code and is the range's source.
func TestValidateJSONSnippetsOfCorpus(t *testing.T) {
	out, _, _ := polRun(t, "", "validate", "-json", "../../policies/testdata/invalid-files")
	var rep jsonReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	n := 0
	for _, d := range rep.Diagnostics {
		sn, r := d.Snippet, d.Range
		if sn == nil || r == nil || strings.HasPrefix(r.Filename, "<") {
			continue
		}
		n++
		code := []rune(sn.Code)
		if sn.HighlightStartOffset < 0 || sn.HighlightStartOffset > sn.HighlightEndOffset || sn.HighlightEndOffset > len(code) || sn.StartLine != r.Start.Line {
			t.Errorf("%s:%d: %q: highlight %d..%d of %d characters, start line %d", r.Filename, r.Start.Line, d.Summary, sn.HighlightStartOffset, sn.HighlightEndOffset, len(code), sn.StartLine)
			continue
		}
		src, err := os.ReadFile(r.Filename)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(code[sn.HighlightStartOffset:sn.HighlightEndOffset]), strings.TrimSuffix(string(src[r.Start.Byte:r.End.Byte]), "\n"); got != want {
			t.Errorf("%s:%d: %q: highlight %q, range %q", r.Filename, r.Start.Line, d.Summary, got, want)
		}
	}
	if n < 50 {
		t.Errorf("only %d diagnostics with snippets", n)
	}
}
