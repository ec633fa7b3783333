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
		json                       bool
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
		{
			name:    "a deadline written in the profile says where it belongs",
			src:     profile(`deadline = "10s"` + timeline),
			summary: "Unsupported argument",
			detail:  "The deadline argument belongs in the cancel block.",
		},
		{
			name:    "a step written in the profile says where it belongs",
			src:     profile("step \"stop\" {\n  signal = \"SIGTERM\"\n}" + timeline),
			summary: "Unsupported block type",
			detail:  "A step block belongs in the cancel block.",
		},
		{
			name:    "an unquoted signal name says to quote it",
			src:     profile(`description = SIGTERM` + timeline),
			summary: "Unknown variable",
			detail:  `quote it: "SIGTERM"`,
		},
		{
			name:    "an unquoted duration says to quote it",
			src:     profile(`budget = 1m30s` + timeline),
			summary: "Missing newline after argument",
			detail:  `Durations are quoted strings: write "1m30s".`,
		},
		{
			name:    "JSON: a deadline written in the profile says where it belongs",
			src:     `{"profile": {"p": {"deadline": "10s", "on": {"SIGTERM": {"actions": ["cancel"]}}, "cancel": {"step": {"kill": {"at": "9s", "signal": "SIGKILL"}}, "deadline": "10s"}}}}`,
			summary: "Extraneous JSON object property",
			detail:  `"deadline" belongs in the cancel block.`,
			json:    true,
		},
		{
			name:    "a fractional exit code names the valid range, which excludes 0",
			src:     profile(`exit_codes { abandoned = 1.5 }` + timeline),
			summary: "Invalid exit code",
			detail:  `must be a whole number from 1 to 255, not 1.5`,
		},
		{
			name:    "a number given to a duration function gets a unit",
			src:     profile(`budget = duration_add("10s", 5)` + timeline),
			summary: "Invalid function argument",
			detail:  `"5" is not a duration. A duration needs a unit: write "5s"`,
		},
		{
			name:    "a partial override of an inherited step says steps are written whole",
			src:     "profile \"p\" {\n  extends = \"process\"\n  cancel {\n    step \"kill\" {\n      at = \"4s\"\n    }\n    deadline = \"5s\"\n  }\n}\n",
			summary: "Step does nothing",
			detail:  "replaces it whole: write all its arguments again",
		},
		{
			name:    "an inherited step past a lowered deadline says how to fix it in the child",
			src:     "profile \"p\" {\n  extends = \"process\"\n  cancel {\n    deadline = \"5s\"\n  }\n}\n",
			summary: "Step after the deadline",
			detail:  `Step "kill", inherited from profile "process", runs at 9s`,
		},
		{
			name:    "an unknown parent is not looked for among the profile itself",
			src:     "profile \"p\" {\n  extends = \"procss\"\n}\n",
			summary: "Unknown profile to extend",
			detail:  `(have: container, kubernetes, process). Did you mean "process"?`,
		},
		{
			name:    "a quoted reference is told to lose its quotes",
			src:     "locals {\n  b = \"30s\"\n}\n" + profile(`budget = "local.b"`+timeline),
			summary: "Invalid duration",
			detail:  `write the expression without them: budget = local.b.`,
		},
		{
			name:    "JSON: a reference outside a template is told to use one",
			src:     `{"locals": {"b": "30s"}, "profile": {"p": {"budget": "local.b", "on": {"SIGTERM": {"actions": ["cancel"]}}, "cancel": {"step": {"kill": {"at": "9s", "signal": "SIGKILL"}}, "deadline": "10s"}}}}`,
			summary: "Invalid duration",
			detail:  `In the JSON syntax an expression goes in a template: write "${local.b}".`,
			json:    true,
		},
		{
			name:    "JSON: a comment among step labels says to move it into the step",
			src:     `{"profile": {"p": {"on": {"SIGTERM": {"actions": ["cancel"]}}, "cancel": {"step": {"//": "the kill", "kill": {"at": "9s", "signal": "SIGKILL"}}, "deadline": "10s"}}}}`,
			summary: "Incorrect JSON value type",
			detail:  `Here "//" is read as a block label, not a comment`,
			json:    true,
		},
		{
			name:    "a missing actions argument gets an example",
			src:     "profile \"p\" {\n  on \"SIGTERM\" {}\n" + timeline + "\n}\n",
			summary: "Missing required argument",
			detail:  `For example: actions = ["cancel", "exit"].`,
		},
		{
			name:    "a profile without a cancel block is told what one holds",
			src:     "profile \"p\" {\n  on \"SIGTERM\" { actions = [\"cancel\"] }\n}\n",
			summary: "Missing deadline",
			detail:  `has no cancel block`,
		},
		{
			name:    "a runner's common name is understood",
			src:     profile(`runner = "k8s"` + timeline),
			summary: "Unknown runner",
			detail:  `Did you mean "kubernetes"?`,
		},
		{
			name:    "an action's common name is understood",
			src:     "profile \"p\" {\n  on \"SIGTERM\" { actions = [\"cancel\", \"kill\"] }\n" + timeline + "\n}\n",
			summary: "Unknown action",
			detail:  `Did you mean "exit"?`,
		},
		{
			name:    "JSON in a file named for the native syntax says how to name it",
			src:     "\n" + `{"profile": {}}`,
			summary: "Argument or block definition required",
			detail:  "This looks like the JSON syntax, which is read from files named *.hcl.json",
		},
		{
			name:    "a target's common name is understood",
			src:     profile("cancel {\n  step \"kill\" {\n    signal = \"SIGKILL\"\n    target = \"process-group\"\n  }\n  deadline = \"10s\"\n}"),
			summary: "Unknown target",
			detail:  `Did you mean "group"?`,
		},
		{
			name:    "a kill at the deadline of a finalising profile says when it must come",
			src:     profile("finalize {\n  command = [\"up\"]\n  reserve = \"5s\"\n}\ncancel {\n  step \"kill\" {\n    at     = \"20s\"\n    signal = \"SIGKILL\"\n  }\n  deadline = \"20s\"\n}"),
			summary: "Step after the deadline",
			detail:  `Finalisation reserves 5s, so this step must come at 15s at the latest.`,
		},
		{
			name:    "JSON: a number as a duration is told the JSON way to seconds()",
			src:     `{"profile": {"p": {"on": {"SIGTERM": {"actions": ["cancel"]}}, "cancel": {"step": {"kill": {"at": "9s", "signal": "SIGKILL"}}, "deadline": 10}}}}`,
			summary: "Invalid duration",
			detail:  `write "10s", or "${seconds(10)}".`,
			json:    true,
		},
		{
			name: "durations compared as they are are told to_seconds()",
			src: "locals {\n  a = \"9s\"\n}\n" + profile(`check {
  condition     = local.a < 10
  error_message = "a below 10s"
}`+timeline),
			summary: "Invalid operand",
			detail:  `convert them: to_seconds(local.a).`,
		},
		{
			name:    "an argument without its = says how to write it",
			src:     profile("cancel {\n  step \"kill\" {\n    at \"1s\"\n    signal = \"SIGKILL\"\n  }\n  deadline = \"10s\"\n}"),
			summary: "Invalid block definition",
			detail:  `at is an argument, not a block: write at = "1s".`,
		},
		{
			name:    "a Terraform-style variable is pointed to env() and locals",
			src:     profile(`runner = var.runner` + timeline),
			summary: "Unknown variable",
			detail:  `a policy has no input variables; read the environment with env("NAME", DEFAULT)`,
		},
		{
			name:    "a misspelt block keeps hcl's suggestion alone",
			src:     profile(`finalise { command = ["x"] }` + timeline),
			summary: "Unsupported block type",
			detail:  `Did you mean "finalize"?`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "p.hcl"
			if tt.json {
				name += ".json"
			}
			_, diags := LoadSources([]Source{{Name: name, Src: []byte(tt.src)}}, Options{LookupEnv: noEnv})
			if len(diags) != 1 || diags[0].Summary != tt.summary || !strings.Contains(diags[0].Detail, tt.detail) {
				t.Errorf("want one %q whose detail contains %q, got:%s", tt.summary, tt.detail, describe(diags))
			}
		})
	}
}

// TestFormatHintsUnquotedDuration: fmt refuses what does not parse with
// the same hint as validate.
func TestFormatHintsUnquotedDuration(t *testing.T) {
	_, _, diags := Format("p.hcl", []byte("profile \"p\" {\n  budget = 30s\n}\n"))
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, `write "30s"`) {
		t.Errorf("got:%s", describe(diags))
	}
}

// TestZeroOutsideBudget: a pod with terminationGracePeriodSeconds: 0 (or
// --budget 0s) is not answered with "lower the deadline to 0s", which no
// deadline can be.
func TestZeroOutsideBudget(t *testing.T) {
	_, diags := Load([]string{"../examples/policies/github-actions.hcl"}, Options{LookupEnv: noEnv, CheckBudget: true, Budget: 0, BudgetSource: "--budget 0s"})
	if len(diags) != 1 || strings.Contains(diags[0].Detail, "to 0s or less") || !strings.Contains(diags[0].Detail, "allow at least the deadline, 11s") {
		t.Errorf("got:%s", describe(diags))
	}
}
