package policies

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Check is a check block: a condition over locals and the environment that
// must hold, with the message to show when it does not. Checks run when the
// file loads, so a bad environment fails validate and run alike.
type Check struct {
	Condition      bool
	Message        string
	ConditionRange hcl.Range
}

var checkSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

// decodeCheckBlock evaluates a check block; a false condition is an error
// diagnostic whose detail is the block's error_message.
func decodeCheckBlock(block *hcl.Block, ctx *hcl.EvalContext) (*Check, hcl.Diagnostics) {
	content, diags := block.Body.Content(checkSchema)
	if diags.HasErrors() {
		return nil, diags
	}
	cattr := content.Attributes["condition"]
	msg, d := decodeString(content.Attributes["error_message"], ctx)
	diags = append(diags, d...)
	cv, d := evalAttr(cattr, ctx)
	diags = append(diags, d...)
	if diags.HasErrors() {
		return nil, diags
	}
	bv, err := convert.Convert(cv, cty.Bool)
	if err != nil {
		return nil, append(diags, typeError(cattr, "a bool", "to_seconds(local.a) < to_seconds(local.b)", err))
	}
	c := &Check{Condition: bv.True(), Message: msg.Value, ConditionRange: cattr.Expr.Range()}
	if !c.Condition {
		diags = append(diags, &hcl.Diagnostic{
			Severity:    hcl.DiagError,
			Summary:     "Check failed",
			Detail:      fmt.Sprintf("%s (the condition of this check block is false)", c.Message),
			Subject:     cattr.Expr.Range().Ptr(),
			Expression:  cattr.Expr,
			EvalContext: ctx,
		})
	}
	return c, diags
}
