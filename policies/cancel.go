package policies

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// Cancel is the cancel block: the timeline run from t0 and its deadline
// (the dead-man's switch).
type Cancel struct {
	Deadline  *Duration
	Steps     []*Step
	DeclRange hcl.Range
}

var cancelSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "deadline"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "step", LabelNames: []string{"name"}}},
}

// decodeCancelBlock decodes a cancel block and its steps.
func decodeCancelBlock(block *hcl.Block, ctx *hcl.EvalContext) (*Cancel, hcl.Diagnostics) {
	c := &Cancel{DeclRange: block.DefRange}
	content, diags := block.Body.Content(cancelSchema)
	if a, ok := content.Attributes["deadline"]; ok {
		v, d := decodeDuration(a, ctx)
		diags = append(diags, d...)
		if v != nil && v.Value == 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Zero deadline",
				Detail:   "The deadline is when graceful gives up waiting and exits; zero leaves the job no time at all. Give a positive duration such as \"10s\".",
				Subject:  v.Range.Ptr(),
			})
			v = nil
		}
		c.Deadline = v
	}
	seen := map[string]*Step{}
	for _, b := range content.Blocks {
		s, d := decodeStepBlock(b, ctx)
		diags = append(diags, d...)
		if prev, ok := seen[s.Name]; ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate step",
				Detail:   fmt.Sprintf("A step named %q is already defined at %s. Step names must be unique within a profile.", s.Name, pos(prev.DeclRange)),
				Subject:  s.NameRange.Ptr(),
			})
			continue
		}
		seen[s.Name] = s
		c.Steps = append(c.Steps, s)
	}
	return c, diags
}
