package policies

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestFormatGolden formats every testdata/fmt input and compares it with
// its .golden file (refresh with go test ./policies -run FormatGolden -update).
// Formatting must be idempotent and the result must still load.
func TestFormatGolden(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/fmt/*")
	for _, in := range inputs {
		if filepath.Ext(in) == ".golden" {
			continue
		}
		t.Run(filepath.Base(in), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got, _, diags := Format(in, src)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			golden := in + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("format (-golden +got):\n%s", diff)
			}
			again, _, _ := Format(in, got)
			if string(again) != string(got) {
				t.Error("formatting is not idempotent")
			}
			if _, diags := LoadSources([]Source{{Name: in, Src: got}}, Options{LookupEnv: noEnv}); diags.HasErrors() {
				t.Errorf("formatted output does not load: %v", diags)
			}
		})
	}
}

func TestFormatRefusesWhatDoesNotParse(t *testing.T) {
	for name, src := range map[string]string{
		"a.hcl":      "profile \"x\" {\n",
		"a.hcl.json": `{"profile": `,
	} {
		got, files, diags := Format(name, []byte(src))
		if got != nil || !diags.HasErrors() || files[name] == nil {
			t.Errorf("%s: got %q, %v", name, got, diags)
		}
	}
}

// TestExamplesAreFormatted keeps the shipped examples and built-ins in
// canonical form (what `graceful fmt -check` checks).
func TestExamplesAreFormatted(t *testing.T) {
	var files []string
	for _, pat := range []string{"../examples/policies/*", "builtin/*.hcl"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, _, diags := Format(f, src)
		if diags.HasErrors() || string(got) != string(src) {
			t.Errorf("%s is not formatted; run graceful fmt %s", f, f)
		}
	}
}
