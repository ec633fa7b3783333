package policies

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// ExitCodes is the exit_codes block: graceful's own exit statuses for
// outcomes without a job status of their own.
type ExitCodes struct {
	Abandoned *Int
	Timeout   *Int
	DeclRange hcl.Range
}

var exitCodesSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "abandoned"}, {Name: "timeout"}},
}

// decodeExitCodesBlock decodes an exit_codes block.
func decodeExitCodesBlock(block *hcl.Block, ctx *hcl.EvalContext) (*ExitCodes, hcl.Diagnostics) {
	e := &ExitCodes{DeclRange: block.DefRange}
	content, diags := block.Body.Content(exitCodesSchema)
	if a, ok := content.Attributes["abandoned"]; ok {
		v, d := decodeInt(a, ctx, "from 1 to 255")
		diags = append(diags, d...)
		if v != nil && (v.Value < 1 || v.Value > 255) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid exit code",
				Detail:   fmt.Sprintf("abandoned is %d; an exit status is between 1 and 255 (0 would report an abandoned job as a success).", v.Value),
				Subject:  v.Range.Ptr(),
			})
			v = nil
		}
		e.Abandoned = v
	}
	if a, ok := content.Attributes["timeout"]; ok {
		v, d := decodeInt(a, ctx, "from 1 to 255, or -1 to keep the job's own status")
		diags = append(diags, d...)
		if v != nil && v.Value != -1 && (v.Value < 1 || v.Value > 255) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid exit code",
				Detail:   fmt.Sprintf("timeout is %d; use an exit status between 1 and 255, or -1 to keep the job's own status.", v.Value),
				Subject:  v.Range.Ptr(),
			})
			v = nil
		}
		e.Timeout = v
	}
	return e, diags
}
