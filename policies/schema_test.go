package policies

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

const schemaPath = "../schema/policy.schema.json"

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("policy.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("policy.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func schemaValidate(t *testing.T, sch *jsonschema.Schema, src []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(src)))
	if err != nil {
		t.Fatal(err)
	}
	return sch.Validate(inst)
}

// TestSchemaAcceptsJSONExamples validates every JSON example and valid
// file against the schema.
func TestSchemaAcceptsJSONExamples(t *testing.T) {
	sch := compileSchema(t)
	var files []string
	for _, pat := range []string{"../examples/policies/*.hcl.json", "testdata/valid-files/*.hcl.json"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	if len(files) < 3 {
		t.Fatalf("only %d JSON examples", len(files))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := schemaValidate(t, sch, src); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// rawSchema is the schema as plain JSON, for comparing it with the
// decoder's own schemas.
func rawSchema(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func dig(t *testing.T, m any, path ...string) any {
	t.Helper()
	for _, p := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			t.Fatalf("schema: %s is not an object", strings.Join(path, "."))
		}
		m = mm[p]
	}
	return m
}

func keys(m any) []string {
	var out []string
	for k := range m.(map[string]any) {
		if k != "//" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func decoderNames(s *hcl.BodySchema) []string {
	var out []string
	for _, a := range s.Attributes {
		out = append(out, a.Name)
	}
	for _, b := range s.Blocks {
		out = append(out, b.Type)
	}
	sort.Strings(out)
	return out
}

// enumOf finds the enum of a property whose schema is {"anyOf": [{enum},
// template]} or a plain enum.
func enumOf(t *testing.T, v any) []string {
	t.Helper()
	m := v.(map[string]any)
	if alts, ok := m["anyOf"]; ok {
		m = alts.([]any)[0].(map[string]any)
	}
	if items, ok := m["items"]; ok {
		m = items.(map[string]any)
	}
	var out []string
	for _, e := range m["enum"].([]any) {
		out = append(out, e.(string))
	}
	sort.Strings(out)
	return out
}

// firstAlt returns the first alternative of {"anyOf": [...]} (the object
// form of a block, where the second is HCL JSON's array form), or v itself.
func firstAlt(t *testing.T, v any) any {
	t.Helper()
	if alts, ok := v.(map[string]any)["anyOf"]; ok {
		return alts.([]any)[0]
	}
	return v
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// TestSchemaAgreesWithDecoder checks that every argument and block the
// decoder accepts is in the schema and vice versa, and that the enums
// match the decoder's lists.
func TestSchemaAgreesWithDecoder(t *testing.T) {
	raw := rawSchema(t)
	bodies := []struct {
		def    string
		schema *hcl.BodySchema
	}{
		{"profile", profileSchema},
		{"on", onSchema},
		{"cancel", cancelSchema},
		{"step", stepSchema},
		{"finalize", finalizeSchema},
		{"exit_codes", exitCodesSchema},
		{"check", checkSchema},
	}
	if diff := cmp.Diff(decoderNames(fileSchema), keys(dig(t, raw, "properties"))); diff != "" {
		t.Errorf("top level (-decoder +schema):\n%s", diff)
	}
	for _, b := range bodies {
		got := keys(dig(t, raw, "$defs", b.def, "properties"))
		if diff := cmp.Diff(decoderNames(b.schema), got); diff != "" {
			t.Errorf("%s (-decoder +schema):\n%s", b.def, diff)
		}
		if dig(t, raw, "$defs", b.def, "additionalProperties") != false {
			t.Errorf("%s: the schema must reject unknown properties, as the decoder does", b.def)
		}
	}

	var catchable []string
	for _, s := range signalNames {
		if !uncatchable[s] && !RuntimeReserved(s) {
			catchable = append(catchable, s)
		}
	}
	enums := []struct {
		name    string
		schema  []string
		decoder []string
	}{
		{"runner", enumOf(t, dig(t, raw, "$defs", "profile", "properties", "runner")), runners},
		{"target", enumOf(t, dig(t, raw, "$defs", "step", "properties", "target")), scopes},
		{"actions", enumOf(t, dig(t, raw, "$defs", "on", "properties", "actions")), actionNames()},
		{"step signal", enumOf(t, dig(t, raw, "$defs", "step", "properties", "signal")), signalNames},
		{"trigger signal", enumOf(t, dig(t, firstAlt(t, dig(t, raw, "$defs", "profile", "properties", "on")), "propertyNames")), catchable},
	}
	for _, e := range enums {
		if diff := cmp.Diff(sorted(e.decoder), e.schema); diff != "" {
			t.Errorf("%s enum (-decoder +schema):\n%s", e.name, diff)
		}
	}
}

// TestSchemaAndDecoderRejectTheSame checks documents the schema rejects
// are rejected by the decoder too.
func TestSchemaAndDecoderRejectTheSame(t *testing.T) {
	sch := compileSchema(t)
	wrap := func(profile string) string {
		return `{"profile": {"p": ` + profile + `}}`
	}
	const steps = `"cancel": {"step": {"kill": {"at": "9s", "signal": "SIGKILL"}}, "deadline": "10s"}`
	docs := map[string]string{
		"unknown top-level property":     `{"profiles": {}}`,
		"unknown profile property":       wrap(`{"dedline": "10s", ` + steps + `}`),
		"unknown trigger signal":         wrap(`{"on": {"SIGTREM": {"actions": ["cancel"]}}, ` + steps + `}`),
		"uncatchable trigger":            wrap(`{"on": {"SIGKILL": {"actions": ["cancel"]}}, ` + steps + `}`),
		"runtime-reserved trigger":       wrap(`{"on": {"SIGURG": {"actions": ["cancel"]}}, ` + steps + `}`),
		"unknown action":                 wrap(`{"on": {"SIGINT": {"actions": ["drian"]}}, ` + steps + `}`),
		"empty actions":                  wrap(`{"on": {"SIGINT": {"actions": []}}, ` + steps + `}`),
		"unknown runner":                 wrap(`{"runner": "proccess", ` + steps + `}`),
		"bad duration":                   wrap(`{"cancel": {"step": {"kill": {"signal": "SIGKILL"}}, "deadline": "10 seconds"}}`),
		"number as duration":             wrap(`{"cancel": {"step": {"kill": {"signal": "SIGKILL"}}, "deadline": 10}}`),
		"negative duration":              wrap(`{"cancel": {"step": {"kill": {"signal": "SIGKILL", "at": "-1s"}}, "deadline": "10s"}}`),
		"step with two kinds":            wrap(`{"cancel": {"step": {"kill": {"signal": "SIGKILL", "notify": "x"}}, "deadline": "10s"}}`),
		"step with no kind":              wrap(`{"cancel": {"step": {"kill": {"at": "1s"}}, "deadline": "10s"}}`),
		"target without signal":          wrap(`{"cancel": {"step": {"s": {"command": ["x"], "target": "tree"}, "kill": {"signal": "SIGKILL"}}, "deadline": "10s"}}`),
		"abandon false":                  wrap(`{"runner": "kubernetes", "cancel": {"step": {"a": {"abandon": false}}, "deadline": "10s"}}`),
		"empty command":                  wrap(`{"cancel": {"step": {"s": {"command": []}, "kill": {"signal": "SIGKILL"}}, "deadline": "10s"}}`),
		"exit code out of range":         wrap(`{"exit_codes": {"abandoned": 300}, ` + steps + `}`),
		"finalize without command":       wrap(`{"finalize": {"timeout": "1s"}, ` + steps + `}`),
		"check without error_message":    wrap(`{"check": {"condition": true}, ` + steps + `}`),
		"invalid profile name":           `{"profile": {"my profile": {` + steps + `}}}`,
		"disabled with another argument": wrap(`{"cancel": {"step": {"kill": {"disabled": true, "at": "1s"}}, "deadline": "10s"}}`),
		"invalid step name":              wrap(`{"cancel": {"step": {"send term": {"signal": "SIGTERM"}, "kill": {"at": "9s", "signal": "SIGKILL"}}, "deadline": "10s"}}`),
		"empty step name":                wrap(`{"cancel": {"step": {"": {"signal": "SIGTERM"}, "kill": {"at": "9s", "signal": "SIGKILL"}}, "deadline": "10s"}}`),
		"unknown signal in a step":       wrap(`{"cancel": {"step": {"kill": {"signal": "SIGKIL"}}, "deadline": "10s"}}`),
		"unknown target":                 wrap(`{"cancel": {"step": {"kill": {"signal": "SIGKILL", "target": "groop"}}, "deadline": "10s"}}`),
		"timeout exit code zero":         wrap(`{"exit_codes": {"timeout": 0}, ` + steps + `}`),
		"timeout on a signal step":       wrap(`{"cancel": {"step": {"kill": {"signal": "SIGKILL", "timeout": "1s"}}, "deadline": "10s"}}`),
		"string where a list is meant":   wrap(`{"cancel": {"step": {"s": {"command": "stop.sh"}, "kill": {"signal": "SIGKILL"}}, "deadline": "10s"}}`),
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			if err := schemaValidate(t, sch, []byte(doc)); err == nil {
				t.Errorf("the schema accepts it")
			}
			_, diags := LoadSources([]Source{{Name: "doc.hcl.json", Src: []byte(doc)}}, Options{LookupEnv: noEnv})
			if !diags.HasErrors() {
				t.Errorf("the decoder accepts it")
			}
		})
	}
	// And a minimal document both accept.
	ok := wrap(`{"on": {"SIGTERM": {"actions": ["cancel"]}}, ` + steps + `}`)
	if err := schemaValidate(t, sch, []byte(ok)); err != nil {
		t.Errorf("schema rejects a valid document: %v", err)
	}
	if _, diags := LoadSources([]Source{{Name: "ok.hcl.json", Src: []byte(ok)}}, Options{LookupEnv: noEnv}); diags.HasErrors() {
		t.Errorf("decoder rejects a valid document: %v", diags)
	}
}

// TestSchemaAndDecoderAcceptTheSame checks the other direction: documents
// the decoder accepts are accepted by the schema too, including HCL JSON's
// array form of repeated blocks. The few deliberate differences, where the
// schema asks for the canonical JSON type of a value the decoder would
// convert, or rejects a null block (HCL JSON reads it as no block), are
// listed so that changing one is a decision.
func TestSchemaAndDecoderAcceptTheSame(t *testing.T) {
	sch := compileSchema(t)
	wrap := func(profile string) string { return `{"profile": {"p": ` + profile + `}}` }
	const on = `"on": {"SIGTERM": {"actions": ["cancel"]}}, `
	const steps = `"cancel": {"step": {"kill": {"at": "9s", "signal": "SIGKILL"}}, "deadline": "10s"}`
	both := map[string]string{
		"disabled = false beside a kind": wrap(`{` + on + `"cancel": {"step": {"kill": {"at": "9s", "signal": "SIGKILL", "disabled": false}}, "deadline": "10s"}}`),
		"profiles as an array":           `{"profile": [{"p": {` + on + steps + `}}, {"q": {` + on + steps + `}}]}`,
		"steps as an array":              wrap(`{` + on + `"cancel": {"step": [{"int": {"signal": "SIGTERM"}}, {"kill": {"at": "9s", "signal": "SIGKILL"}}], "deadline": "10s"}}`),
		"triggers as an array":           wrap(`{"on": [{"SIGTERM": {"actions": ["cancel"]}}, {"SIGINT": {"actions": ["cancel"]}}], ` + steps + `}`),
		"cancel as a one-element array":  wrap(`{` + on + `"cancel": [{"step": {"kill": {"at": "9s", "signal": "SIGKILL"}}, "deadline": "10s"}]}`),
		"finalize as an array":           wrap(`{` + on + `"finalize": [{"command": ["true"]}], ` + steps + `}`),
		"checks as an array":             wrap(`{` + on + steps + `, "check": [{"condition": true, "error_message": "x"}]}`),
		"locals as an array":             `{"locals": [{"a": "1s"}, {"b": "2s"}], "profile": {"p": {` + on + steps + `}}}`,
		"a duration with a plus sign":    wrap(`{` + on + `"cancel": {"step": {"kill": {"at": "+9s", "signal": "SIGKILL"}}, "deadline": "10s"}}`),
		"durations .5s and 1.s":          wrap(`{` + on + `"cancel": {"step": {"kill": {"at": ".5s", "signal": "SIGKILL"}}, "deadline": "1.s"}}`),
		"actions from a template":        wrap(`{"on": {"SIGTERM": {"actions": "${concat([\"cancel\"], [\"exit\"])}"}}, ` + steps + `}`),
		"notify from a template":         wrap(`{"runner": "kubernetes", ` + on + `"cancel": {"step": {"i": {"notify": "${\"interrupt\"}"}, "a": {"at": "1s", "abandon": true}}, "deadline": "10s"}}`),
		"exit code -1 for timeout":       wrap(`{` + on + `"exit_codes": {"timeout": -1}, ` + steps + `}`),
	}
	for name, doc := range both {
		t.Run(name, func(t *testing.T) {
			if err := schemaValidate(t, sch, []byte(doc)); err != nil {
				t.Errorf("the schema rejects it: %v", err)
			}
			if _, diags := LoadSources([]Source{{Name: "doc.hcl.json", Src: []byte(doc)}}, Options{LookupEnv: noEnv}); diags.HasErrors() {
				t.Errorf("the decoder rejects it:%s", describe(diags))
			}
		})
	}
	stricter := map[string]string{
		"an exit code as a string":  wrap(`{` + on + `"exit_codes": {"abandoned": "100"}, ` + steps + `}`),
		"abandon as a string":       wrap(`{"runner": "kubernetes", ` + on + `"cancel": {"step": {"a": {"abandon": "true"}}, "deadline": "10s"}}`),
		"a condition as a string":   wrap(`{` + on + steps + `, "check": {"condition": "true", "error_message": "x"}}`),
		"a description as a number": wrap(`{"description": 5, ` + on + steps + `}`),
		"a null step":               wrap(`{` + on + `"cancel": {"step": {"kill": {"at": "9s", "signal": "SIGKILL"}, "x": null}, "deadline": "10s"}}`),
	}
	for name, doc := range stricter {
		t.Run("stricter: "+name, func(t *testing.T) {
			if err := schemaValidate(t, sch, []byte(doc)); err == nil {
				t.Errorf("the schema accepts it; update this test and docs/policy.md")
			}
			if _, diags := LoadSources([]Source{{Name: "doc.hcl.json", Src: []byte(doc)}}, Options{LookupEnv: noEnv}); diags.HasErrors() {
				t.Errorf("the decoder rejects it:%s", describe(diags))
			}
		})
	}
}
