package policies

import (
	"strings"
	"testing"
	"time"
)

// TestNestingRefusedBeforeParsing: input nested deeper than hcl can parse
// without exhausting the stack gives one diagnostic at its first offending
// line, from Load and from Format, and quickly.
func TestNestingRefusedBeforeParsing(t *testing.T) {
	locals := func(expr string) string { return "locals {\n  ok = 1\n  x = " + expr + "\n}\n" }
	r := strings.Repeat
	tests := []struct {
		name string
		src  string
		line int
	}{
		{"100,000 parentheses", locals(r("(", 100_000) + "1" + r(")", 100_000)), 3},
		{"10,000 parentheses", locals(r("(", 10_000) + "1" + r(")", 10_000)), 3},
		{"unclosed parentheses", locals(r("(", 100_000)), 3},
		// The body, the block and "=" are three levels; line 2 opens the
		// first bracket.
		{"brackets over lines", "locals {\n  x = " + r("[\n", 1000) + "1" + r("]", 1000) + "\n}\n", 2 + maxNesting - 3},
		{"100,000 negations", locals(r("!", 100_000) + "true"), 3},
		{"100,000 minus signs", locals(r("-", 100_000) + "1"), 3},
		{"a chain of conditionals", locals(r("true ? 1 : ", 50_000) + "1"), 3},
		{"a chain of additions", locals("1" + r(" + 1", 100_000)), 3},
		{"a chain of indexes", locals("[1]" + r("[0]", 100_000)), 3},
		{"nested interpolations", locals(r(`"${`, 30_000) + "1" + r(`}"`, 30_000)), 3},
		// Four levels on line 3, then a heredoc and an interpolation on
		// each line.
		{"nested heredocs", locals(r("<<EOT\n${", 2000) + "1" + r("}\nEOT\n", 2000)), 3 + (maxNesting-4)/2 + 1},
		{"JSON arrays", `{"locals": {"x": ` + r("[", 100_000) + r("]", 100_000) + "}}", 1},
		{"JSON template", "{\n\"locals\": {\"x\": \"${" + r("(", 10_000) + "1" + r(")", 10_000) + "}\"}}", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "deep.hcl"
			if strings.HasPrefix(tt.name, "JSON") {
				name = "deep.hcl.json"
			}
			_, text := loadWithin(t, name, []byte(tt.src), 10*time.Second)
			_, diags := LoadSources([]Source{{Name: name, Src: []byte(tt.src)}}, Options{LookupEnv: noEnv})
			if len(diags) != 1 || diags[0].Summary != "Nesting too deep" || diags[0].Subject == nil || diags[0].Subject.Start.Line != tt.line {
				t.Fatalf("want one Nesting too deep on line %d, got:%s", tt.line, describe(diags))
			}
			if len(text) > 4096+len(tt.src) {
				t.Errorf("rendered diagnostic is %d bytes", len(text))
			}
			if _, _, fdiags := Format(name, []byte(tt.src)); len(fdiags) != 1 || fdiags[0].Summary != "Nesting too deep" {
				t.Errorf("Format: want one Nesting too deep, got:%s", describe(fdiags))
			}
		})
	}
}

// TestNestingNotMistaken: brackets and operators in comments, strings and
// heredocs do not count, nor do long flat lists and long names; an
// expression at the limit still loads.
func TestNestingNotMistaken(t *testing.T) {
	r := strings.Repeat
	ok := []string{
		"# " + r("(", 1000) + "\n// " + r("[", 1000) + "\n/* " + r("{", 1000) + " */\nlocals {\n  x = 1\n}\n",
		"locals {\n  x = \"" + r("(", 1000) + r("\\\"", 100) + "$${" + r("(", 200) + "\"\n}\n",
		"locals {\n  x = <<-EOT\n    " + r("((", 1000) + "\n    EOT\n  y = 1\n}\n",
		"locals {\n  x = [" + r("1, ", 10_000) + "1]\n  y = " + r("a-", 500) + "b\n}\n",
		"locals {\n  x = " + r("(", maxNesting-3) + "1" + r(")", maxNesting-3) + "\n}\n",
		`{"locals": {"x": "` + r("(", 1000) + `", "y": "${1 + 2}"}}`,
	}
	for i, src := range ok {
		name := "ok.hcl"
		if strings.HasPrefix(src, "{") {
			name += ".json"
		}
		if d := checkLimits(name, []byte(src)); d != nil {
			t.Errorf("input %d refused: %s: %s (line %d)", i, d.Summary, d.Detail, d.Subject.Start.Line)
		}
	}
}

// TestTooManyTokensRefused: a 1 MiB file of tiny tokens would parse into
// over 300 MB; it is refused before parsing.
func TestTooManyTokensRefused(t *testing.T) {
	for _, name := range []string{"flat.hcl", "flat.hcl.json"} {
		src := "locals {\n  x = [" + strings.Repeat("[],", MaxFileSize/3-20) + "1]\n}\n"
		if IsJSON(name) {
			src = `{"locals": {"x": [` + strings.Repeat("[],", MaxFileSize/3-20) + "1]}}"
		}
		_, diags := LoadSources([]Source{{Name: name, Src: []byte(src)}}, Options{LookupEnv: noEnv})
		if len(diags) != 1 || diags[0].Summary != "Too many tokens" {
			t.Errorf("%s: want one Too many tokens, got:%s", name, describe(diags))
		}
	}
}
