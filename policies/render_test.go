package policies

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// TestRenderMatchesHCLWriter: for ordinary diagnostics, rendering from a
// fragment of the file gives exactly what hcl's writer gives on the whole
// file.
func TestRenderMatchesHCLWriter(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.hcl*")
	n := 0
	for _, name := range files {
		pol, diags := Load([]string{name}, Options{LookupEnv: noEnv})
		for _, d := range diags {
			var buf bytes.Buffer
			_ = hcl.NewDiagnosticTextWriter(&buf, pol.HCLFiles(), 78, false).WriteDiagnostic(d)
			want := buf.String()
			if s := d.Subject; s != nil {
				want = strings.Replace(want, fmt.Sprintf("  on %s line %d", s.Filename, s.Start.Line), fmt.Sprintf("  on %s:%d:%d", s.Filename, s.Start.Line, s.Start.Column), 1)
			}
			if got := pol.RenderDiagnostics(hcl.Diagnostics{d}, 78, false); got != want {
				t.Errorf("%s:\ngot:\n%s\nwant:\n%s", name, got, want)
			}
			n++
		}
	}
	if n < 50 {
		t.Errorf("only %d diagnostics compared", n)
	}
}

// TestDiagnosticsCappedPerFile: 400 profiles with the same mistakes show
// the first maxDiagnosticsPerFile diagnostics and one counting the rest,
// and render quickly into little text.
func TestDiagnosticsCappedPerFile(t *testing.T) {
	one := `profile "p%d" {
  on "SIGTREM" { actions = ["cancle"] }
  cancel {
    step "a" {
      at     = "1x"
      signal = "SIGTERN"
    }
  }
}
`
	_, single := LoadSources([]Source{{Name: "one.hcl", Src: fmt.Appendf(nil, one, 0)}}, Options{LookupEnv: noEnv})
	if len(single) < 2 || len(single) > maxDiagnosticsPerFile {
		t.Fatalf("one profile gives %d diagnostics", len(single))
	}
	var src []byte
	for i := range 400 {
		src = fmt.Appendf(src, one, i)
	}
	pol, text := loadWithin(t, "many.hcl", src, 10*time.Second)
	_, diags := LoadSources([]Source{{Name: "many.hcl", Src: src}}, Options{LookupEnv: noEnv})
	if len(diags) != maxDiagnosticsPerFile+1 {
		t.Fatalf("got %d diagnostics, want %d", len(diags), maxDiagnosticsPerFile+1)
	}
	last := diags[len(diags)-1]
	wantRest := fmt.Sprintf("%d errors and 0 warnings more in many.hcl", 400*len(single)-maxDiagnosticsPerFile)
	if last.Summary != "Too many diagnostics" || !strings.Contains(last.Detail, wantRest) || last.Subject == nil {
		t.Errorf("last diagnostic: %s: %s, want %q", last.Summary, last.Detail, wantRest)
	}
	if len(text) > 20_000 {
		t.Errorf("%d bytes of diagnostics", len(text))
	}
	_ = pol
}

// TestRenderedDiagnosticsAreBounded: control characters of the file never
// reach the output, and a long line shows only a window around the
// mistake.
func TestRenderedDiagnosticsAreBounded(t *testing.T) {
	tests := []struct {
		name, src string
	}{
		{"escape.hcl", "# \x1b]0;owned\x07 \x1b[2J\nlocals {\n  x = \"\x1b[31mred\u009b\x7f\" + \x1b\n}\n"},
		{"message.hcl", "locals {\n  x = env(\"A\x1b[2J\")\n}\n"},
		{"carriage.hcl", "locals {\n  x = \"a\rb\" + unknown\r\n}\r\n"},
		{"long.hcl", "locals {\n  x = [" + strings.Repeat(`"a", `, 100_000) + "nope]\n}\n"},
		{"long.hcl.json", `{"locals": {"x": [` + strings.Repeat(`"a", `, 100_000) + `"${nope}"]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, text := loadWithin(t, tt.name, []byte(tt.src), 10*time.Second)
			_, diags := LoadSources([]Source{{Name: tt.name, Src: []byte(tt.src)}}, Options{LookupEnv: noEnv})
			for _, d := range diags {
				for _, r := range d.Summary + d.Detail {
					if isControl(r) && r != '\n' {
						t.Errorf("control character %U in %q: %q", r, d.Summary, d.Detail)
					}
				}
			}
			if !strings.Contains(text, "Error: ") {
				t.Fatalf("no error reported:\n%s", text)
			}
			for _, r := range text {
				if isControl(r) && r != '\n' {
					t.Fatalf("control character %U in:\n%q", r, text)
				}
			}
			if len(text) > 4*maxSnippet {
				t.Errorf("%d bytes of diagnostics:\n%.3000s", len(text), text)
			}
		})
	}
}

// TestRenderLongLineWindow: the window of a long line keeps the subject
// highlighted in place and the real line number.
func TestRenderLongLineWindow(t *testing.T) {
	src := "locals {\n  x = [" + strings.Repeat(`"a", `, 10_000) + "nope]\n}\n"
	pol, diags := LoadSources([]Source{{Name: "w.hcl", Src: []byte(src)}}, Options{LookupEnv: noEnv})
	if len(diags) != 1 {
		t.Fatalf("got:%s", describe(diags))
	}
	text := pol.RenderDiagnostics(diags, 0, true)
	if !strings.Contains(text, "   2: ...") || !strings.Contains(text, "\x1b[1;4mnope\x1b[0m]") {
		t.Errorf("no window of line 2 with nope highlighted:\n%s", text)
	}
	if !strings.Contains(text, fmt.Sprintf("on w.hcl:2:%d", 8+5*10_000)) {
		t.Errorf("position lost:\n%s", text)
	}
}
