package policies

import (
	"fmt"
	"math/big"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Attribute values keep the range of their expression so that semantic
// checks made after decoding can point at the exact place.

// Duration is a decoded duration attribute.
type Duration struct {
	Value time.Duration
	Range hcl.Range
}

// String is a decoded string attribute.
type String struct {
	Value string
	Range hcl.Range
}

// Int is a decoded whole-number attribute.
type Int struct {
	Value int
	Range hcl.Range
}

// evalAttr evaluates attr in ctx, rejecting null and unknown values.
func evalAttr(attr *hcl.Attribute, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	val, diags := attr.Expr.Value(ctx)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	if val.IsNull() {
		return cty.NilVal, append(diags, &hcl.Diagnostic{
			Severity:    hcl.DiagError,
			Summary:     "Null value",
			Detail:      fmt.Sprintf("The argument %q must have a value; remove it to use the default.", attr.Name),
			Subject:     attr.Expr.Range().Ptr(),
			Expression:  attr.Expr,
			EvalContext: ctx,
		})
	}
	if !val.IsWhollyKnown() {
		// Nothing in the language produces unknown values; this is a
		// guard for future functions.
		return cty.NilVal, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unknown value",
			Detail:   fmt.Sprintf("The argument %q must be known when the policy loads.", attr.Name),
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
	return val, diags
}

// typeError reports a value of the wrong type.
func typeError(attr *hcl.Attribute, want, example string, err error) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Incorrect attribute value type",
		Detail:   fmt.Sprintf("The argument %q must be %s, for example %s: %s.", attr.Name, want, example, err),
		Subject:  attr.Expr.Range().Ptr(),
	}
}

// decodeString decodes a string attribute.
func decodeString(attr *hcl.Attribute, ctx *hcl.EvalContext) (*String, hcl.Diagnostics) {
	val, diags := evalAttr(attr, ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	sv, err := convert.Convert(val, cty.String)
	if err != nil {
		return nil, append(diags, typeError(attr, "a string", `"SIGTERM"`, err))
	}
	return &String{Value: sv.AsString(), Range: attr.Expr.Range()}, diags
}

// decodeBool decodes a boolean attribute.
func decodeBool(attr *hcl.Attribute, ctx *hcl.EvalContext) (bool, hcl.Diagnostics) {
	val, diags := evalAttr(attr, ctx)
	if diags.HasErrors() {
		return false, diags
	}
	bv, err := convert.Convert(val, cty.Bool)
	if err != nil {
		return false, append(diags, typeError(attr, "a bool", "true", err))
	}
	return bv.True(), diags
}

// decodeInt decodes a whole number.
func decodeInt(attr *hcl.Attribute, ctx *hcl.EvalContext) (*Int, hcl.Diagnostics) {
	val, diags := evalAttr(attr, ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	nv, err := convert.Convert(val, cty.Number)
	if err != nil {
		return nil, append(diags, typeError(attr, "a whole number", "123", err))
	}
	bf := nv.AsBigFloat()
	i, acc := bf.Int64()
	if acc != big.Exact || i < -1<<31 || i > 1<<31-1 {
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid exit code",
			Detail:   fmt.Sprintf("The argument %q must be a whole number between 0 and 255, not %s.", attr.Name, bf.Text('g', 10)),
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
	return &Int{Value: int(i), Range: attr.Expr.Range()}, diags
}

// decodeStringList decodes a list of strings.
func decodeStringList(attr *hcl.Attribute, ctx *hcl.EvalContext) ([]string, hcl.Diagnostics) {
	val, diags := evalAttr(attr, ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	lv, err := convert.Convert(val, cty.List(cty.String))
	if err != nil {
		return nil, append(diags, typeError(attr, "a list of strings", `["./stop.sh", "--now"]`, err))
	}
	var out []string
	for it := lv.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		if ev.IsNull() {
			return nil, append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Null value",
				Detail:   fmt.Sprintf("The list %q must not contain null.", attr.Name),
				Subject:  attr.Expr.Range().Ptr(),
			})
		}
		out = append(out, ev.AsString())
	}
	return out, diags
}

// decodeDuration decodes a non-negative Go duration string.
func decodeDuration(attr *hcl.Attribute, ctx *hcl.EvalContext) (*Duration, hcl.Diagnostics) {
	val, diags := evalAttr(attr, ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	if val.Type() == cty.Number {
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid duration",
			Detail:   fmt.Sprintf("The argument %q is a number, but durations are strings with a unit: write %q, or seconds(%s).", attr.Name, val.AsBigFloat().Text('g', 10)+"s", val.AsBigFloat().Text('g', 10)),
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
	sv, err := convert.Convert(val, cty.String)
	if err != nil {
		return nil, append(diags, typeError(attr, "a duration string", `"10s"`, err))
	}
	s := sv.AsString()
	d, perr := time.ParseDuration(s)
	if perr != nil {
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid duration",
			Detail:   fmt.Sprintf("The argument %q is %q, which is not a duration. Write a Go duration such as \"10s\", \"1m30s\" or \"750ms\".", attr.Name, s),
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
	if d < 0 {
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Negative duration",
			Detail:   fmt.Sprintf("The argument %q is %s; offsets and timeouts are measured forward from t0, so use zero or a positive duration.", attr.Name, d),
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
	return &Duration{Value: d, Range: attr.Expr.Range()}, diags
}

// pos formats the start of a range as FILE:LINE:COLUMN for messages that
// point at another place.
func pos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}
