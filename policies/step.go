package policies

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/graceful-sh/graceful/engine"
)

// Step is a `step "NAME" { ... }` block of the cancel timeline. Exactly one
// of signal, command, notify and abandon says what it does.
type Step struct {
	Name      string
	NameRange hcl.Range
	DeclRange hcl.Range
	// Disabled removes an inherited step of the same name.
	Disabled bool

	At   *Duration
	Kind engine.StepKind
	// KindRange is the range of the argument that chose the kind.
	KindRange hcl.Range

	Signal      string
	Target      engine.Scope
	TargetRange hcl.Range
	Command     []string
	Timeout     *Duration
	Notify      string

	owner *Profile
}

// at returns the step's offset; an omitted at means t0.
func (s *Step) at() time.Duration {
	if s.At == nil {
		return 0
	}
	return s.At.Value
}

// atRange returns the range to blame for the step's offset.
func (s *Step) atRange() hcl.Range {
	if s.At == nil {
		return s.DeclRange
	}
	return s.At.Range
}

var stepSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "at"},
		{Name: "signal"},
		{Name: "target"},
		{Name: "command"},
		{Name: "timeout"},
		{Name: "notify"},
		{Name: "abandon"},
		{Name: "disabled"},
	},
}

var scopes = []string{string(engine.ScopeGroup), string(engine.ScopeTree), string(engine.ScopeLeader)}

// stepDoesNothing is the summary of a step without a kind.
const stepDoesNothing = "Step does nothing"

// kindAttrs are the arguments that each make a step of their kind.
var kindAttrs = []string{"signal", "command", "notify", "abandon"}

// decodeStepBlock decodes one step.
func decodeStepBlock(block *hcl.Block, ctx *hcl.EvalContext) (*Step, hcl.Diagnostics) {
	s := &Step{
		Name:      block.Labels[0],
		NameRange: block.LabelRanges[0],
		DeclRange: block.DefRange,
	}
	content, diags := block.Body.Content(stepSchema)
	attrs := content.Attributes

	// The name becomes the state step:NAME in events, diagrams and the
	// disabled/override rules of extends, so it follows the rule of
	// profile names (and of the JSON schema).
	if !validName(s.Name) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid step name",
			Detail:   fmt.Sprintf("The step name %q is not valid. Use letters, digits, '-', '_' and '.', starting with a letter (at most 64 characters), e.g. \"kill\".", s.Name),
			Subject:  s.NameRange.Ptr(),
		})
	}

	if a, ok := attrs["disabled"]; ok {
		v, d := decodeBool(a, ctx)
		diags = append(diags, d...)
		s.Disabled = v
		if v {
			for _, other := range []string{"at", "signal", "target", "command", "timeout", "notify", "abandon"} {
				if oa, ok := attrs[other]; ok {
					diags = append(diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Argument in a disabled step",
						Detail:   fmt.Sprintf("A step with disabled = true only removes the inherited step %q; remove the %s argument.", s.Name, other),
						Subject:  oa.NameRange.Ptr(),
					})
				}
			}
			return s, diags
		}
	}

	// at is independent of what the step does, so a mistake in it is
	// reported even when the step's kind is wrong.
	if a, ok := attrs["at"]; ok {
		v, d := decodeDuration(a, ctx)
		diags = append(diags, d...)
		s.At = v
	}

	var kinds []*hcl.Attribute
	for _, k := range kindAttrs {
		if a, ok := attrs[k]; ok {
			kinds = append(kinds, a)
		}
	}
	switch len(kinds) {
	case 0:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  stepDoesNothing,
			Detail:   fmt.Sprintf("The step %q needs exactly one of signal, command, notify or abandon = true.", s.Name),
			Subject:  s.DeclRange.Ptr(),
		})
		return s, diags
	case 1:
	default:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Step does more than one thing",
			Detail:   fmt.Sprintf("The step %q has both %s and %s. Split it into two steps at the same offset.", s.Name, kinds[0].Name, kinds[1].Name),
			Subject:  kinds[1].NameRange.Ptr(),
		})
		return s, diags
	}
	ka := kinds[0]
	s.KindRange = ka.Expr.Range()

	switch ka.Name {
	case "signal":
		s.Kind = engine.StepSignal
		v, d := decodeString(ka, ctx)
		diags = append(diags, d...)
		if v != nil {
			if !signalSet[v.Value] {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Unknown signal",
					Detail:   fmt.Sprintf("%q is not a signal name. %s", v.Value, SignalSuggestion(v.Value)),
					Subject:  v.Range.Ptr(),
				})
			}
			s.Signal = v.Value
		}
		s.Target = engine.ScopeGroup
		if a, ok := attrs["target"]; ok {
			v, d := decodeString(a, ctx)
			diags = append(diags, d...)
			if v != nil {
				if !contains(scopes, v.Value) {
					diags = append(diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Unknown target",
						Detail:   fmt.Sprintf("The target %q is not one of \"group\", \"tree\" or \"leader\".%s", v.Value, didYouMeanWord(v.Value, scopes)),
						Subject:  v.Range.Ptr(),
					})
				}
				s.Target = engine.Scope(v.Value)
				s.TargetRange = v.Range
			}
		}
	case "command":
		s.Kind = engine.StepCommand
		argv, d := decodeStringList(ka, ctx, `["systemctl", "stop", "app"]`)
		diags = append(diags, d...)
		if !d.HasErrors() && (len(argv) == 0 || strings.TrimSpace(argv[0]) == "") {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Empty command",
				Detail:   "The command is an argv list whose first element is the program, e.g. [\"systemctl\", \"stop\", \"app\"].",
				Subject:  ka.Expr.Range().Ptr(),
			})
		}
		s.Command = argv
		if a, ok := attrs["timeout"]; ok {
			v, d := decodeDuration(a, ctx)
			diags = append(diags, d...)
			s.Timeout = v
		}
	case "notify":
		s.Kind = engine.StepNotify
		v, d := decodeString(ka, ctx)
		diags = append(diags, d...)
		if v != nil {
			if strings.TrimSpace(v.Value) == "" {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Empty notification",
					Detail:   "notify names the message sent to the job, e.g. \"interrupt\".",
					Subject:  v.Range.Ptr(),
				})
			}
			s.Notify = v.Value
		}
	case "abandon":
		s.Kind = engine.StepAbandon
		v, d := decodeBool(ka, ctx)
		diags = append(diags, d...)
		if !d.HasErrors() && !v {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Step does nothing",
				Detail:   fmt.Sprintf("abandon = false does nothing; write abandon = true or remove the step %q.", s.Name),
				Subject:  ka.Expr.Range().Ptr(),
			})
		}
	}

	if a, ok := attrs["target"]; ok && s.Kind != engine.StepSignal {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Target without signal",
			Detail:   fmt.Sprintf("target only applies to signal steps; remove it from the %s step %q.", s.Kind, s.Name),
			Subject:  a.NameRange.Ptr(),
		})
	}
	if a, ok := attrs["timeout"]; ok && s.Kind != engine.StepCommand {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Timeout without command",
			Detail:   fmt.Sprintf("timeout only applies to command steps; remove it from the %s step %q.", s.Kind, s.Name),
			Subject:  a.NameRange.Ptr(),
		})
	}
	return s, diags
}
