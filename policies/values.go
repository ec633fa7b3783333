package policies

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
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
	if diags := checkLocalRefs(attr.Expr, ctx); diags.HasErrors() {
		return cty.NilVal, diags
	}
	val, _, diags := evalBounded(attr.Expr, ctx, budgetOf(ctx), fmt.Sprintf("the argument %q", attr.Name))
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
		// Only a local value that failed to evaluate is unknown; its
		// error is reported already and decodeFile drops this one.
		return cty.NilVal, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  unknownValue,
			Detail:   fmt.Sprintf("The argument %q must be known when the policy loads.", attr.Name),
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
	return val, diags
}

// checkLocalRefs reports references to local values that ctx does not
// define in the words the locals block uses ("Reference to undeclared local
// value", with a suggestion), rather than hcl's "Unsupported attribute".
func checkLocalRefs(expr hcl.Expression, ctx *hcl.EvalContext) hcl.Diagnostics {
	if ctx == nil {
		return nil
	}
	lv, ok := ctx.Variables["local"]
	if !ok || !lv.Type().IsObjectType() {
		return nil
	}
	// Only a reference to a missing local needs the list of names (for
	// the suggestion); building it for every argument would make a file
	// with many locals and many arguments quadratic.
	missing := false
	for _, tr := range expr.Variables() {
		if tr.RootName() != "local" {
			continue
		}
		if len(tr) < 2 {
			missing = true
			break
		}
		if ga, ok := tr[1].(hcl.TraverseAttr); !ok || !lv.Type().HasAttribute(ga.Name) {
			missing = true
			break
		}
	}
	if !missing {
		return nil
	}
	known := map[string]bool{}
	var names []string
	for n := range lv.Type().AttributeTypes() {
		known[n] = true
		names = append(names, n)
	}
	sort.Strings(names)
	_, diags := localRefs(expr, known, names)
	return diags
}

// unknownValue is the summary of evalAttr's diagnostic for a value not
// known at load time: only locals that failed to evaluate produce one.
const unknownValue = "Unknown value"

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

// decodeInt decodes a whole number; valid says which, for the message,
// e.g. "from 1 to 255".
func decodeInt(attr *hcl.Attribute, ctx *hcl.EvalContext, valid string) (*Int, hcl.Diagnostics) {
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
			Detail:   fmt.Sprintf("The argument %q must be a whole number %s, not %s.", attr.Name, valid, bf.Text('g', 10)),
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
	return &Int{Value: int(i), Range: attr.Expr.Range()}, diags
}

// decodeStringList decodes a list of strings; example is a valid value for
// attr, for the message when the value is not a list.
func decodeStringList(attr *hcl.Attribute, ctx *hcl.EvalContext, example string) ([]string, hcl.Diagnostics) {
	val, diags := evalAttr(attr, ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	lv, err := convert.Convert(val, cty.List(cty.String))
	if err != nil {
		// A single string was most likely meant as the list of its words.
		if val.Type() == cty.String {
			if words := strings.Fields(val.AsString()); len(words) > 0 {
				example = "[" + strings.Join(quoteAll(words), ", ") + "]"
			}
		}
		return nil, append(diags, typeError(attr, "a list of strings", example, err))
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
			Detail:   numberAsDuration(attr, val.AsBigFloat().Text('g', 10)),
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
			Detail:   fmt.Sprintf("The argument %q is %q, which is not a duration. %s", attr.Name, s, expressionHint(attr, s, durationHint(s))),
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

// numberAsDuration explains a bare number given as a duration, in the
// syntax of the file.
func numberAsDuration(attr *hcl.Attribute, n string) string {
	call := "seconds(" + n + ")"
	if IsJSON(attr.Expr.Range().Filename) {
		call = fmt.Sprintf("%q", "${"+call+"}")
	}
	return fmt.Sprintf("The argument %q is a number, but durations are strings with a unit: write %q, or %s.", attr.Name, n+"s", call)
}

// looksLikeExpression matches a reference or a function call written as
// plain text: "local.grace", "seconds(10)".
var looksLikeExpression = lazyRegexp(`^(local\.[A-Za-z_][A-Za-z0-9_-]*|[a-z_]+\(.*\))$`)

// expressionHint returns how to write s as an expression when it looks
// like one that was quoted (native syntax) or not put in a template (JSON
// syntax), else otherwise.
func expressionHint(attr *hcl.Attribute, s, otherwise string) string {
	t := strings.TrimSpace(s)
	if !looksLikeExpression().MatchString(t) {
		return otherwise
	}
	if IsJSON(attr.Expr.Range().Filename) {
		return fmt.Sprintf("In the JSON syntax an expression goes in a template: write %q.", "${"+t+"}")
	}
	return fmt.Sprintf("Quotes make it text; write the expression without them: %s = %s.", attr.Name, t)
}

// unitWords are spelt-out units people write for Go's unit symbols.
var unitWords = lazyRegexp(`(?i)([0-9.])\s*(milliseconds?|millis|msecs?|seconds?|secs?|minutes?|mins?|hours?|hrs?)\b`)

// durationHint says how to write s as a duration: the Go duration it was
// probably meant as ("10" -> "10s", "9 seconds" -> "9s"), or the syntax.
func durationHint(s string) string {
	t := strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(t, 64); err == nil && f >= 0 {
		return fmt.Sprintf("A duration needs a unit: write %q for seconds (or %q, %q).", t+"s", t+"ms", t+"m")
	}
	t = unitWords().ReplaceAllStringFunc(t, func(m string) string {
		sub := unitWords().FindStringSubmatch(m)
		u := strings.ToLower(sub[2])
		switch {
		case strings.HasPrefix(u, "m") && (strings.HasPrefix(u, "milli") || strings.HasPrefix(u, "msec")):
			u = "ms"
		case strings.HasPrefix(u, "s"):
			u = "s"
		case strings.HasPrefix(u, "m"):
			u = "m"
		default:
			u = "h"
		}
		return sub[1] + u
	})
	t = strings.ReplaceAll(t, " ", "")
	if d, err := time.ParseDuration(t); err == nil && d >= 0 {
		return fmt.Sprintf("Did you mean %q? Durations are Go duration strings without spaces.", t)
	}
	return "Write a Go duration such as \"10s\", \"1m30s\" or \"750ms\"."
}

// pos formats the start of a range as FILE:LINE:COLUMN for messages that
// point at another place.
func pos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}
