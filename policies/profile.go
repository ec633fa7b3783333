package policies

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/graceful-sh/graceful/engine"
)

// Profile is one decoded profile block, before extends is resolved. Every
// part keeps its source range for the diagnostics of validation.
type Profile struct {
	Name      string
	NameRange hcl.Range
	DeclRange hcl.Range
	// File is the name of the file the profile came from.
	File string
	// Builtin is set for the embedded default profiles.
	Builtin bool
	// Broken is set when decoding reported errors; such a profile is not
	// validated further and cannot be used.
	Broken bool

	Extends     *String
	Description *String
	Runner      *String
	Budget      *Duration

	Triggers  []*Trigger
	Cancel    *Cancel
	Finalize  *Finalize
	ExitCodes *ExitCodes
	Checks    []*Check
}

// runners are the valid values of runner.
var runners = []string{engine.RunnerProcess, engine.RunnerKubernetes, engine.RunnerContainer}

var profileSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"},
		{Name: "extends"},
		{Name: "runner"},
		{Name: "budget"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "on", LabelNames: []string{"signal"}},
		{Type: "cancel"},
		{Type: "finalize"},
		{Type: "exit_codes"},
		{Type: "check"},
	},
}

// decodeProfileBlock decodes a `profile "NAME" { ... }` block.
func decodeProfileBlock(block *hcl.Block, ctx *hcl.EvalContext) (*Profile, hcl.Diagnostics) {
	p := &Profile{
		Name:      block.Labels[0],
		NameRange: block.LabelRanges[0],
		DeclRange: block.DefRange,
	}
	content, diags := block.Body.Content(profileSchema)

	if !validName(p.Name) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid profile name",
			Detail:   fmt.Sprintf("The profile name %q is not valid. Use letters, digits, '-', '_' and '.', starting with a letter (at most 64 characters).", p.Name),
			Subject:  p.NameRange.Ptr(),
		})
	}

	if a, ok := content.Attributes["description"]; ok {
		v, d := decodeString(a, ctx)
		diags = append(diags, d...)
		p.Description = v
	}
	if a, ok := content.Attributes["extends"]; ok {
		v, d := decodeString(a, ctx)
		diags = append(diags, d...)
		p.Extends = v
	}
	if a, ok := content.Attributes["runner"]; ok {
		v, d := decodeString(a, ctx)
		diags = append(diags, d...)
		if v != nil && !contains(runners, v.Value) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown runner",
				Detail:   fmt.Sprintf("The runner %q is not one of \"process\", \"kubernetes\" or \"container\".%s", v.Value, didYouMeanWord(v.Value, runners)),
				Subject:  v.Range.Ptr(),
			})
			v = nil
		}
		p.Runner = v
	}
	if a, ok := content.Attributes["budget"]; ok {
		v, d := decodeDuration(a, ctx)
		diags = append(diags, d...)
		if v != nil && v.Value == 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Zero budget",
				Detail:   "A budget of zero leaves no time to stop the job. Give the time the surrounding system grants (e.g. the pod's terminationGracePeriodSeconds), or remove budget for no limit.",
				Subject:  v.Range.Ptr(),
			})
		}
		p.Budget = v
	}

	seenOn := map[string]*Trigger{}
	for _, b := range content.Blocks {
		switch b.Type {
		case "on":
			t, d := decodeOnBlock(b, ctx)
			diags = append(diags, d...)
			if t == nil {
				continue
			}
			if prev, ok := seenOn[t.Signal]; ok {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate trigger",
					Detail:   fmt.Sprintf("The signal %s already has an on block at %s. List all its actions in one block.", t.Signal, pos(prev.DeclRange)),
					Subject:  t.SignalRange.Ptr(),
				})
				continue
			}
			seenOn[t.Signal] = t
			t.owner = p
			p.Triggers = append(p.Triggers, t)
		case "cancel":
			if p.Cancel != nil {
				diags = append(diags, duplicateBlock(b, p.Cancel.DeclRange))
				continue
			}
			c, d := decodeCancelBlock(b, ctx)
			if _, ok := content.Attributes["extends"]; ok {
				for _, dd := range d {
					if dd.Summary == stepDoesNothing {
						dd.Detail += " In a profile that extends another, a step named like an inherited one replaces it whole: write all its arguments again (signal, target, ...), or disabled = true to remove it."
					}
				}
			}
			diags = append(diags, d...)
			for _, s := range c.Steps {
				s.owner = p
			}
			p.Cancel = c
		case "finalize":
			if p.Finalize != nil {
				diags = append(diags, duplicateBlock(b, p.Finalize.DeclRange))
				continue
			}
			f, d := decodeFinalizeBlock(b, ctx)
			diags = append(diags, d...)
			f.owner = p
			p.Finalize = f
		case "exit_codes":
			if p.ExitCodes != nil {
				diags = append(diags, duplicateBlock(b, p.ExitCodes.DeclRange))
				continue
			}
			e, d := decodeExitCodesBlock(b, ctx)
			diags = append(diags, d...)
			p.ExitCodes = e
		case "check":
			c, d := decodeCheckBlock(b, ctx)
			diags = append(diags, d...)
			if c != nil {
				p.Checks = append(p.Checks, c)
			}
		}
	}
	p.Broken = diags.HasErrors()
	return p, diags
}

func duplicateBlock(b *hcl.Block, prev hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Duplicate " + b.Type + " block",
		Detail:   fmt.Sprintf("A profile has at most one %s block; the first is at %s. Merge the two.", b.Type, pos(prev)),
		Subject:  b.DefRange.Ptr(),
	}
}

// validName reports whether s is a usable profile name: it appears on
// command lines (--profile NAME) and in extends.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'):
		default:
			return false
		}
	}
	return true
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
