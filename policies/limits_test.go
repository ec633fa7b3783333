package policies

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// loadWithin loads src as one file and fails the test when that takes
// longer than limit. The bounds are generous (tests run under -race on a
// loaded machine); they catch work that grows faster than the input, which
// takes orders of magnitude longer.
func loadWithin(t *testing.T, name string, src []byte, limit time.Duration) (*Policy, string) {
	t.Helper()
	type result struct {
		pol  *Policy
		text string
	}
	done := make(chan result, 1)
	go func() {
		pol, diags := LoadSources([]Source{{Name: name, Src: src}}, Options{LookupEnv: noEnv})
		done <- result{pol, pol.RenderDiagnostics(diags, 0, false)}
	}()
	select {
	case r := <-done:
		return r.pol, r.text
	case <-time.After(limit):
		t.Fatalf("loading %s (%d bytes) took over %s", name, len(src), limit)
		return nil, ""
	}
}

// TestManyLocalsLoadInLinearTime: 20,000 locals, most independent and
// 2,000 in a chain written backwards (the worst order for evaluation in
// passes), load in well under the bound.
func TestManyLocalsLoadInLinearTime(t *testing.T) {
	var b strings.Builder
	b.WriteString("locals {\n")
	for i := range 18000 {
		fmt.Fprintf(&b, "  value_%d = \"value number %d\"\n", i, i)
	}
	for i := range 1999 {
		fmt.Fprintf(&b, "  chain_%d = local.chain_%d\n", i, i+1)
	}
	b.WriteString("  chain_1999 = \"9s\"\n}\n")
	b.WriteString(`profile "p" {
  on "SIGTERM" { actions = ["cancel"] }
  cancel {
    step "kill" {
      at     = local.chain_0
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
`)
	pol, text := loadWithin(t, "many-locals.hcl", []byte(b.String()), 15*time.Second)
	if text != "" {
		t.Fatal(text)
	}
	p, err := pol.Profile("p")
	if err != nil {
		t.Fatal(err)
	}
	if p.Steps[0].At != 9*time.Second {
		t.Errorf("the chain evaluated to %s, want 9s", p.Steps[0].At)
	}
}

// validPolicy is a small valid policy file.
var validPolicy = []byte(`profile "p" {
  on "SIGTERM" { actions = ["cancel"] }
  cancel {
    step "kill" {
      at     = "9s"
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
`)

// TestFileSizeCap: a policy of exactly MaxFileSize bytes loads; one byte
// more is refused, from disk and in memory, without reading past the cap.
func TestFileSizeCap(t *testing.T) {
	pad := func(n int) []byte {
		b := append([]byte{}, validPolicy...)
		for len(b) < n {
			line := strings.Repeat("#", min(79, n-len(b)-1)) + "\n"
			b = append(b, line...)
		}
		return b[:n]
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		size    int
		refused bool
	}{
		{MaxFileSize, false},
		{MaxFileSize + 1, true},
	} {
		src := pad(tt.size)
		name := filepath.Join(dir, fmt.Sprintf("p%d.hcl", tt.size))
		if err := os.WriteFile(name, src, 0o644); err != nil {
			t.Fatal(err)
		}
		_, diags := Load([]string{name}, Options{LookupEnv: noEnv})
		_, mdiags := LoadSources([]Source{{Name: name, Src: src}}, Options{LookupEnv: noEnv})
		_, _, fdiags := Format(name, src)
		_, rerr := ReadFile(name)
		for what, d := range map[string]hcl.Diagnostics{"Load": diags, "LoadSources": mdiags, "Format": fdiags} {
			refused := len(d) == 1 && d[0].Summary == "Policy file too large"
			if refused != tt.refused || (!tt.refused && d.HasErrors()) {
				t.Errorf("%s of %d bytes: refused = %v, want %v:%s", what, tt.size, refused, tt.refused, describe(d))
			}
		}
		if (rerr != nil) != tt.refused {
			t.Errorf("ReadFile of %d bytes: %v", tt.size, rerr)
		}
	}
}

// TestBinaryFileRefused: NUL bytes or bytes that are not UTF-8 give one
// diagnostic at the first such byte, not one per byte with the file
// echoed in each.
func TestBinaryFileRefused(t *testing.T) {
	for _, tt := range []struct {
		name string
		src  []byte
		line int
	}{
		{"nul.hcl", make([]byte, 10_000), 1},
		{"nul.hcl.json", make([]byte, 10_000), 1},
		{"latin1.hcl", []byte("locals {\n  x = \"ok\"\n  y = \"caf\xe9\"\n}\n"), 3},
		{"gzip.hcl", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"), 1},
	} {
		_, text := loadWithin(t, tt.name, tt.src, 10*time.Second)
		_, diags := LoadSources([]Source{{Name: tt.name, Src: tt.src}}, Options{LookupEnv: noEnv})
		if len(diags) != 1 || diags[0].Summary != "Binary file" || diags[0].Subject == nil || diags[0].Subject.Start.Line != tt.line {
			t.Errorf("%s: want one Binary file diagnostic on line %d, got:%s", tt.name, tt.line, describe(diags))
		}
		if len(text) > 1000 || strings.ContainsRune(text, 0) {
			t.Errorf("%s: rendered diagnostics are %d bytes:\n%q", tt.name, len(text), text)
		}
		if _, _, fdiags := Format(tt.name, tt.src); len(fdiags) != 1 || fdiags[0].Summary != "Binary file" {
			t.Errorf("%s: Format: want one Binary file diagnostic, got:%s", tt.name, describe(fdiags))
		}
	}
}
