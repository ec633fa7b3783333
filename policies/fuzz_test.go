package policies

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadValidate feeds arbitrary files through parsing, decoding,
// extends resolution, validation and diagnostic rendering. No input may
// panic, and whatever loads cleanly must satisfy the engine's invariants.
func FuzzLoadValidate(f *testing.F) {
	for _, pat := range []string{"testdata/invalid-files/*", "testdata/several-mistakes/*", "testdata/valid-files/*", "../examples/policies/*", "builtin/*.hcl"} {
		files, _ := filepath.Glob(pat)
		for _, name := range files {
			src, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src, IsJSON(name))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, isJSON bool) {
		name := "fuzz.hcl"
		if isJSON {
			name = "fuzz.hcl.json"
		}
		pol, diags := LoadSources([]Source{{Name: name, Src: src}}, Options{LookupEnv: noEnv})
		_ = pol.RenderDiagnostics(diags, 78, false)
		for _, d := range diags {
			if d.Summary == "" {
				t.Errorf("diagnostic without summary: %#v", d)
			}
			// Only a local that failed is unknown, and its own error is
			// the one reported.
			if d.Summary == unknownValue {
				t.Errorf("unknown value reported: %#v", d)
			}
		}
		if diags.HasErrors() {
			return
		}
		for _, p := range pol.Profiles() {
			if p.Deadline <= 0 {
				t.Errorf("%s: valid profile with deadline %s", p.Name, p.Deadline)
			}
			escalates := false
			for i, s := range p.Steps {
				if i > 0 && s.At < p.Steps[i-1].At {
					t.Errorf("%s: steps not sorted", p.Name)
				}
				if s.At < 0 || s.At >= p.Deadline {
					t.Errorf("%s: step %s at %s outside [0, %s)", p.Name, s.Name, s.At, p.Deadline)
				}
				escalates = escalates || s.Escalates()
			}
			if !escalates {
				t.Errorf("%s: valid profile that never escalates", p.Name)
			}
		}
		_, _, _ = Format(name, src)
	})
}
