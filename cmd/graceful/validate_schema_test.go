package main

import (
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestValidateJSONMatchesSchema checks real validate -json reports against
// schema/validate.schema.json, the contract for their readers.
func TestValidateJSONMatchesSchema(t *testing.T) {
	sch := compileSchema(t, "validate.schema.json")

	dir := polWrite(t, map[string]string{"bad.hcl": polBadSignal, "s.hcl": polSnippets})
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"errors", []string{dir}},
		{"a warning", []string{"../../policies/testdata/invalid-files/no-signal-stops.hcl"}},
		{"clean", []string{"../../examples/policies"}},
		{"built-ins over a budget", []string{"--budget", "5s"}},
		{"every invalid file of the corpus", []string{"../../policies/testdata/invalid-files"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, _ := polRun(t, "", append([]string{"validate", "-json"}, tt.args...)...)
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
			if err != nil {
				t.Fatalf("not JSON: %v\n%s%s", err, out, errOut)
			}
			if err := sch.Validate(inst); err != nil {
				t.Errorf("%v\n%s", err, out)
			}
		})
	}
	t.Run("the schema rejects a snippet as a string", func(t *testing.T) {
		bad := `{"format_version": "1.0", "valid": false, "error_count": 1, "warning_count": 0, "files": [], "profiles": [],
			"diagnostics": [{"severity": "error", "summary": "S", "detail": "", "range": {"filename": "f", "start": {"line": 1, "column": 1, "byte": 0}, "end": {"line": 1, "column": 2, "byte": 1}}, "snippet": "x"}]}`
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if sch.Validate(inst) == nil {
			t.Error("accepted")
		}
	})
}

// compileSchema compiles schema/NAME, a JSON Schema of graceful's output.
func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("../../schema/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(name, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(name)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}
