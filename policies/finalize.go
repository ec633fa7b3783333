package policies

import (
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Finalize is the finalize block: work done after the job has stopped.
type Finalize struct {
	Command      []string
	CommandRange hcl.Range
	Timeout      *Duration
	// Reserve is the time finalisation needs inside the deadline; it is
	// only used by validation ("no time left for finalisation").
	Reserve   *Duration
	DeclRange hcl.Range

	owner *Profile
}

// defaultReserve is the finalisation reserve when finalize sets none.
const defaultReserve = time.Second

var finalizeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "command", Required: true},
		{Name: "timeout"},
		{Name: "reserve"},
	},
}

// decodeFinalizeBlock decodes a finalize block.
func decodeFinalizeBlock(block *hcl.Block, ctx *hcl.EvalContext) (*Finalize, hcl.Diagnostics) {
	f := &Finalize{DeclRange: block.DefRange}
	content, diags := block.Body.Content(finalizeSchema)
	if a, ok := content.Attributes["command"]; ok {
		f.CommandRange = a.Expr.Range()
		argv, d := decodeStringList(a, ctx, `["./upload-logs.sh"]`)
		diags = append(diags, d...)
		if !d.HasErrors() && (len(argv) == 0 || strings.TrimSpace(argv[0]) == "") {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Empty command",
				Detail:   "The command is an argv list whose first element is the program, e.g. [\"./upload-logs.sh\"].",
				Subject:  a.Expr.Range().Ptr(),
			})
		}
		f.Command = argv
	}
	if a, ok := content.Attributes["timeout"]; ok {
		v, d := decodeDuration(a, ctx)
		diags = append(diags, d...)
		f.Timeout = v
	}
	if a, ok := content.Attributes["reserve"]; ok {
		v, d := decodeDuration(a, ctx)
		diags = append(diags, d...)
		f.Reserve = v
	}
	return f, diags
}

func (f *Finalize) reserve() time.Duration {
	if f.Reserve == nil {
		return defaultReserve
	}
	return f.Reserve.Value
}
