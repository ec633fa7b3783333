package policies

import (
	"strings"
	"testing"
)

// TestDiagnosticDetails checks that a diagnostic's detail says how to fix
// the mistake in the terms of the argument at hand.
func TestDiagnosticDetails(t *testing.T) {
	const timeline = `
  cancel {
    step "kill" {
      at     = "9s"
      signal = "SIGKILL"
    }
    deadline = "10s"
  }`
	profile := func(body string) string {
		return "profile \"p\" {\n  on \"SIGTERM\" { actions = [\"cancel\"] }\n" + body + "\n}\n"
	}
	tests := []struct {
		name, src, summary, detail string
	}{
		{
			name:    "actions as a string suggests a list of actions",
			src:     "profile \"p\" {\n  on \"SIGTERM\" { actions = \"cancel\" }\n" + timeline + "\n}\n",
			summary: "Incorrect attribute value type",
			detail:  `for example ["cancel"]`,
		},
		{
			name:    "a command as one string suggests its words as argv",
			src:     profile(`finalize { command = "./upload logs" }` + timeline),
			summary: "Incorrect attribute value type",
			detail:  `for example ["./upload", "logs"]`,
		},
		{
			name:    "a bare number string gets a unit",
			src:     profile(`budget = "30"` + timeline),
			summary: "Invalid duration",
			detail:  `write "30s" for seconds`,
		},
		{
			name:    "spelt-out units become Go units",
			src:     profile(`budget = "1 minute 30 seconds"` + timeline),
			summary: "Invalid duration",
			detail:  `Did you mean "1m30s"?`,
		},
		{
			name:    "an undeclared local in a profile is named as such, with a suggestion",
			src:     "locals {\n  budget = \"30s\"\n}\n" + profile(`budget = local.budegt`+timeline),
			summary: "Reference to undeclared local value",
			detail:  `Did you mean "budget"?`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := LoadSources([]Source{{Name: "p.hcl", Src: []byte(tt.src)}}, Options{LookupEnv: noEnv})
			if len(diags) != 1 || diags[0].Summary != tt.summary || !strings.Contains(diags[0].Detail, tt.detail) {
				t.Errorf("want one %q whose detail contains %q, got:%s", tt.summary, tt.detail, describe(diags))
			}
		})
	}
}
