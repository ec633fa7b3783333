package policies

import (
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// A policy's expressions can build values far larger than the file: 40
// locals that each double a string reach 1.5 GiB, format("%2000000000s",
// "x") allocates 2 GB, and 60 locals that pair the previous one make a
// tuple of 2^60 strings that format("%v") or == never finish walking.
// Evaluation is therefore bounded twice: no value may be larger than
// maxValueSize, and a file's evaluation may touch at most maxEvalWork in
// all. Every function call is charged for its arguments and its result
// (and refused before it runs when it would amplify them), every
// expression for the values it refers to (a template can repeat a
// reference), and every local for its value. For expressions, the one
// construct that repeats work per element, are refused by the scan before
// parsing (see nesting.go).

const (
	// maxValueSize is the largest value a policy may build, measured by
	// valueSize: far above any duration, name or command.
	maxValueSize = 256 << 10
	// maxEvalWork is how much one file's evaluation may touch, in the
	// same measure.
	maxEvalWork = 16 << 20
	// elementCost is what an element of a collection counts for beyond
	// its own contents: about what it takes in memory.
	elementCost = 64
)

// evalBudget is one file's evaluation allowance and the sizes of its
// locals.
type evalBudget struct {
	left  int
	sizes map[string]int
}

func newEvalBudget() *evalBudget {
	return &evalBudget{left: maxEvalWork, sizes: map[string]int{}}
}

// spend charges n against the budget and reports whether it held.
func (b *evalBudget) spend(n int) bool {
	b.left -= n
	return b.left >= 0
}

// budgetVar is the evaluation context variable that carries the budget to
// evalAttr. Its name is not an identifier, so no expression can refer to
// it, and it is far from any name a user writes, so it is never suggested.
const budgetVar = "\x00graceful evaluation budget"

var budgetType = cty.Capsule("evaluation budget", reflect.TypeOf(evalBudget{}))

// budgetOf returns the budget of ctx, or a fresh one for a context made
// without newEvalContext.
func budgetOf(ctx *hcl.EvalContext) *evalBudget {
	if ctx != nil {
		if v, ok := ctx.Variables[budgetVar]; ok {
			return v.EncapsulatedValue().(*evalBudget)
		}
	}
	return newEvalBudget()
}

// valueSize measures v: the bytes of its strings and keys, plus
// elementCost for every collection, element and non-string primitive. It stops counting past limit and
// then returns limit+1, so that measuring a value built to be huge (a
// tuple that holds the same tuple twice, 60 levels deep) costs at most
// limit steps.
func valueSize(v cty.Value, limit int) int {
	n := 0
	var walk func(v cty.Value) bool
	walk = func(v cty.Value) bool {
		switch t := v.Type(); {
		case !v.IsKnown() || v.IsNull():
			n++
		case t == cty.String:
			n += len(v.AsString())
		case t == cty.Number:
			// As text a number takes about one digit per 3.3 bits of
			// its exponent: 1e600000000 is 600 MB in a template.
			exp := v.AsBigFloat().MantExp(nil)
			n += elementCost + int(float64(max(exp, -exp))*0.30103)
		case t.IsListType() || t.IsSetType() || t.IsTupleType() || t.IsMapType() || t.IsObjectType():
			n += elementCost
			keyed := t.IsMapType() || t.IsObjectType()
			for it := v.ElementIterator(); it.Next() && n <= limit; {
				k, e := it.Element()
				n += elementCost
				if keyed {
					n += len(k.AsString())
				}
				if !walk(e) {
					return false
				}
			}
		default:
			n += elementCost
		}
		return n <= limit
	}
	walk(v)
	return min(n, limit+1)
}

// formatSize is a byte count for messages: "300 KiB", "2.0 GiB".
func formatSize(n int) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// tooLargeErr is the error of a function whose result would be too large.
func tooLargeErr(name string, size int) error {
	what := "over " + formatSize(maxValueSize)
	if size < maxValueSize*4 || size < maxReported {
		what = "about " + formatSize(size)
	}
	return fmt.Errorf("the result of %s would be %s, and a policy value may be at most %s; build large data outside the policy", name, what, formatSize(maxValueSize))
}

// maxReported bounds the estimates below, which saturate rather than
// overflow.
const maxReported = 1 << 50

var errWorkExhausted error = workExhausted{}

// workExhausted is errWorkExhausted's type: its message is made when it is
// read, not while graceful starts.
type workExhausted struct{}

func (workExhausted) Error() string {
	return "this file's expressions have used up their allowance of " + formatSize(maxEvalWork) + " of values; a policy needs far less, so look for values that are repeated or nested many times"
}

// boundedFunc wraps f so that a call is refused when its arguments or its
// result are too large or the file's allowance is used up; estimate, when
// given, bounds the result from the arguments before f runs (for the
// functions whose result can be much larger than their arguments).
func boundedFunc(name string, f function.Function, b *evalBudget, estimate func(args []cty.Value, argsSize int) int) function.Function {
	spec := &function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		Type: func(args []cty.Value) (cty.Type, error) {
			return f.ReturnTypeForValues(args)
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			in := 0
			for _, a := range args {
				in += valueSize(a, maxValueSize)
				if in > maxValueSize {
					return cty.NilVal, fmt.Errorf("the arguments of %s hold over %s, and a policy value may be at most that; build large data outside the policy", name, formatSize(maxValueSize))
				}
			}
			out := 0
			if estimate != nil {
				if out = estimate(args, in); out > maxValueSize {
					return cty.NilVal, tooLargeErr(name, out)
				}
			}
			if !b.spend(in + out) {
				return cty.NilVal, errWorkExhausted
			}
			res, err := f.Call(args)
			if err != nil {
				return res, err
			}
			size := valueSize(res, maxValueSize)
			if size > maxValueSize {
				return cty.NilVal, tooLargeErr(name, size)
			}
			if !b.spend(size) {
				return cty.NilVal, errWorkExhausted
			}
			return res, nil
		},
	}
	return function.New(spec)
}

// formatEstimate bounds format's result: its format string, every width
// and precision it asks for, and its arguments. "%2000000000s" would
// otherwise allocate 2 GB before any check could see the result.
func formatEstimate(args []cty.Value, argsSize int) int {
	if len(args) == 0 || !args[0].IsKnown() || args[0].IsNull() {
		return argsSize
	}
	spec := args[0].AsString()
	n := argsSize
	for i := 0; i < len(spec); i++ {
		if spec[i] != '%' {
			continue
		}
		// Every run of digits in a verb is a width, a precision or an
		// argument index; counting all of them over-estimates a little.
		for i++; i < len(spec) && strings.IndexByte("+-# 0123456789.[]*", spec[i]) >= 0; i++ {
			if spec[i] < '0' || spec[i] > '9' {
				continue
			}
			w := 0
			for ; i < len(spec) && spec[i] >= '0' && spec[i] <= '9'; i++ {
				w = min(w*10+int(spec[i]-'0'), maxReported)
			}
			n = min(n+w, maxReported)
			i--
		}
	}
	return n
}

// joinEstimate bounds join(sep, lists...): the separator is repeated
// between every two elements.
func joinEstimate(args []cty.Value, argsSize int) int {
	if len(args) == 0 || !args[0].IsKnown() || args[0].IsNull() {
		return argsSize
	}
	elems := 0
	for _, l := range args[1:] {
		if l.IsKnown() && !l.IsNull() && l.CanIterateElements() {
			elems += l.LengthInt()
		}
	}
	return argsSize + min(len(args[0].AsString())*elems, maxReported)
}

// splitEstimate bounds split(sep, s): an element per separator, and one
// per character when the separator is empty.
func splitEstimate(args []cty.Value, argsSize int) int {
	if len(args) < 2 || !args[0].IsKnown() || !args[1].IsKnown() || args[0].IsNull() || args[1].IsNull() {
		return argsSize
	}
	sep, s := args[0].AsString(), args[1].AsString()
	parts := utf8.RuneCountInString(s) + 1
	if sep != "" {
		parts = strings.Count(s, sep) + 1
	}
	return argsSize + parts*elementCost
}

// refsSize is what the locals expr refers to add up to, each reference
// counted as often as it is written: a template copies every one.
func refsSize(expr hcl.Expression, b *evalBudget) int {
	n := 0
	for _, tr := range expr.Variables() {
		if tr.RootName() != "local" || len(tr) < 2 {
			continue
		}
		if ga, ok := tr[1].(hcl.TraverseAttr); ok {
			n += b.sizes[ga.Name]
		}
	}
	return n
}

// evalBounded evaluates expr in ctx within the file's budget. what names
// the value for messages ("the local value \"x\"", "the argument \"at\"").
// The value's size is returned for the caller's records.
func evalBounded(expr hcl.Expression, ctx *hcl.EvalContext, b *evalBudget, what string) (cty.Value, int, hcl.Diagnostics) {
	if b.left < 0 {
		// Used up, and reported where that happened: the rest of the
		// file is unknown, without a diagnostic each.
		return cty.DynamicVal, 0, nil
	}
	refs := refsSize(expr, b)
	if refs > maxValueSize {
		return cty.DynamicVal, 0, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Value too large",
			Detail:   fmt.Sprintf("The local values that %s refers to add up to %s (counting each reference), and a policy value may be at most %s. Refer to large values less often, or build large data outside the policy.", what, formatSize(refs), formatSize(maxValueSize)),
			Subject:  expr.Range().Ptr(),
		}}
	}
	if !b.spend(refs) {
		return cty.DynamicVal, 0, hcl.Diagnostics{workDiag(expr, what)}
	}
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return v, 0, diags
	}
	size := valueSize(v, maxValueSize)
	if size > maxValueSize {
		return cty.DynamicVal, 0, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Value too large",
			Detail:   fmt.Sprintf("%s is over %s, and a policy value may be at most that. Build large data outside the policy.", upperFirst(what), formatSize(maxValueSize)),
			Subject:  expr.Range().Ptr(),
		})
	}
	if !b.spend(size) {
		return cty.DynamicVal, 0, append(diags, workDiag(expr, what))
	}
	return v, size, diags
}

func workDiag(expr hcl.Expression, what string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Evaluation limit reached",
		Detail:   fmt.Sprintf("Evaluating %s went past the allowance of one file: %s", what, strings.TrimSuffix(errWorkExhausted.Error(), ".")+"."),
		Subject:  expr.Range().Ptr(),
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
