package policies

import (
	"math"
	"os"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Durations are plain strings in Go's time.ParseDuration syntax ("9s",
// "1m30s", "7.5s") everywhere in the language, so every function below that
// returns a duration returns such a string, normalised by time.Duration's
// String method.

// functions returns the function table of a policy's evaluation context.
// lookupEnv is the environment env() reads; every call is charged to b
// (see bounds.go).
func functions(lookupEnv func(string) (string, bool), b *evalBudget) map[string]function.Function {
	fns := map[string]function.Function{
		"env":          envFunc(lookupEnv),
		"seconds":      unitFunc(time.Second),
		"milliseconds": unitFunc(time.Millisecond),
		"duration":     durationFunc,
		"to_seconds":   toSecondsFunc,
		"duration_add": durationFoldFunc("sum", addDurations),
		"duration_sub": durationSubFunc,
		"duration_mul": durationMulFunc,
		"duration_min": durationFoldFunc("minimum", func(a, b time.Duration) (time.Duration, bool) { return min(a, b), true }),
		"duration_max": durationFoldFunc("maximum", func(a, b time.Duration) (time.Duration, bool) { return max(a, b), true }),
		"min":          stdlib.MinFunc,
		"max":          stdlib.MaxFunc,
		"abs":          stdlib.AbsoluteFunc,
		"ceil":         stdlib.CeilFunc,
		"floor":        stdlib.FloorFunc,
		"tonumber":     stdlib.MakeToFunc(cty.Number),
		"tostring":     stdlib.MakeToFunc(cty.String),
		"tobool":       stdlib.MakeToFunc(cty.Bool),
		"upper":        stdlib.UpperFunc,
		"lower":        stdlib.LowerFunc,
		"trimspace":    stdlib.TrimSpaceFunc,
		"format":       stdlib.FormatFunc,
		"join":         stdlib.JoinFunc,
		"split":        stdlib.SplitFunc,
		"concat":       stdlib.ConcatFunc,
		"coalesce":     stdlib.CoalesceFunc,
		"length":       lengthFunc,
		"contains":     stdlib.ContainsFunc,
	}
	// The functions whose result can be much larger than their arguments
	// are checked before they run.
	estimates := map[string]func([]cty.Value, int) int{
		"format": formatEstimate,
		"join":   joinEstimate,
		"split":  splitEstimate,
	}
	for name, f := range fns {
		fns[name] = boundedFunc(name, f, b, estimates[name])
	}
	return fns
}

// FunctionNames lists the functions a policy may call, for documentation
// and tests.
func FunctionNames() []string {
	names := make([]string, 0, 32)
	for n := range functions(nil, newEvalBudget()) {
		names = append(names, n)
	}
	return names
}

// envFunc is env(NAME[, DEFAULT]): the environment variable's value, or
// DEFAULT (converted to a string) when it is unset or empty. Without a
// default an unset variable is an error.
func envFunc(lookupEnv func(string) (string, bool)) function.Function {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	return function.New(&function.Spec{
		Description: "Returns an environment variable, or the default when it is unset or empty.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "default", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder {
			return b.NotNull()
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			if len(args) > 2 {
				return cty.NilVal, function.NewArgErrorf(2, "env takes a name and at most one default")
			}
			if v, ok := lookupEnv(name); ok && v != "" {
				return cty.StringVal(v), nil
			}
			if len(args) == 2 {
				if args[1].IsNull() {
					return cty.NilVal, function.NewArgErrorf(1, "the default must not be null")
				}
				return args[1], nil
			}
			return cty.NilVal, function.NewArgErrorf(0, "environment variable %s is not set and no default was given; write env(%q, DEFAULT)", name, name)
		},
	})
}

// unitFunc converts a number of units (seconds, milliseconds) to a duration.
// A numeric string such as an environment variable's value converts too.
func unitFunc(unit time.Duration) function.Function {
	return function.New(&function.Spec{
		Description: "Converts a number to a duration.",
		Params:      []function.Parameter{{Name: "n", Type: cty.Number}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			f, _ := args[0].AsBigFloat().Float64()
			d := f * float64(unit)
			if math.IsInf(d, 0) || math.IsNaN(d) || math.Abs(d) > math.MaxInt64/2 {
				return cty.NilVal, function.NewArgErrorf(0, "%v is out of range for a duration", f)
			}
			return cty.StringVal(time.Duration(d).String()), nil
		},
	})
}

// durationFunc is duration(D): D parsed and normalised, an error when D is
// not a duration. Use it to check an environment variable early.
var durationFunc = function.New(&function.Spec{
	Description: "Parses and normalises a duration string.",
	Params:      []function.Parameter{{Name: "d", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		d, err := parseDurationArg(args[0], 0)
		if err != nil {
			return cty.NilVal, err
		}
		return cty.StringVal(d.String()), nil
	},
})

// toSecondsFunc is to_seconds(D): the duration as a number of seconds, for
// comparisons and arithmetic on plain numbers.
var toSecondsFunc = function.New(&function.Spec{
	Description: "Converts a duration to a number of seconds.",
	Params:      []function.Parameter{{Name: "d", Type: cty.String}},
	Type:        function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		d, err := parseDurationArg(args[0], 0)
		if err != nil {
			return cty.NilVal, err
		}
		return cty.NumberFloatVal(d.Seconds()), nil
	},
})

// addDurations returns a+b, and false when the sum does not fit in a
// time.Duration (Go's addition would wrap around silently).
func addDurations(a, b time.Duration) (time.Duration, bool) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, false
	}
	return a + b, true
}

// subDurations returns a-b, and false when the difference does not fit.
func subDurations(a, b time.Duration) (time.Duration, bool) {
	if (b < 0 && a > math.MaxInt64+b) || (b > 0 && a < math.MinInt64+b) {
		return 0, false
	}
	return a - b, true
}

// durationRange is the range of a duration, for out-of-range messages.
const durationRange = "durations range from about -292 to 292 years"

// durationFoldFunc builds a function of one or more durations folded with
// f; what names the result for the error when f reports an overflow.
func durationFoldFunc(what string, f func(a, b time.Duration) (time.Duration, bool)) function.Function {
	return function.New(&function.Spec{
		Params:   []function.Parameter{{Name: "first", Type: cty.String}},
		VarParam: &function.Parameter{Name: "more", Type: cty.String},
		Type:     function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			acc, err := parseDurationArg(args[0], 0)
			if err != nil {
				return cty.NilVal, err
			}
			for i, a := range args[1:] {
				d, err := parseDurationArg(a, i+1)
				if err != nil {
					return cty.NilVal, err
				}
				var ok bool
				if acc, ok = f(acc, d); !ok {
					return cty.NilVal, function.NewArgErrorf(i+1, "the %s is out of range for a duration: %s", what, durationRange)
				}
			}
			return cty.StringVal(acc.String()), nil
		},
	})
}

// durationSubFunc is duration_sub(A, B): A minus B (may be negative).
var durationSubFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "a", Type: cty.String}, {Name: "b", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		a, err := parseDurationArg(args[0], 0)
		if err != nil {
			return cty.NilVal, err
		}
		b, err := parseDurationArg(args[1], 1)
		if err != nil {
			return cty.NilVal, err
		}
		d, ok := subDurations(a, b)
		if !ok {
			return cty.NilVal, function.NewArgErrorf(1, "the difference is out of range for a duration: %s", durationRange)
		}
		return cty.StringVal(d.String()), nil
	},
})

// durationMulFunc is duration_mul(D, N): D scaled by the number N.
var durationMulFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "d", Type: cty.String}, {Name: "n", Type: cty.Number}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		d, err := parseDurationArg(args[0], 0)
		if err != nil {
			return cty.NilVal, err
		}
		n, _ := args[1].AsBigFloat().Float64()
		r := float64(d) * n
		if math.IsInf(r, 0) || math.IsNaN(r) || math.Abs(r) > math.MaxInt64/2 {
			return cty.NilVal, function.NewArgErrorf(1, "the product is out of range for a duration")
		}
		return cty.StringVal(time.Duration(r).String()), nil
	},
})

func parseDurationArg(v cty.Value, i int) (time.Duration, error) {
	s := v.AsString()
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, function.NewArgErrorf(i, "%q is not a duration. %s", s, strings.TrimSuffix(durationHint(s), "."))
	}
	return d, nil
}

// lengthFunc is length(V): the number of characters of a string, or of
// elements of a list, map or tuple (go-cty's LengthFunc takes collections
// only).
var lengthFunc = function.New(&function.Spec{
	Description: "Returns the length of a string or collection.",
	Params:      []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true}},
	Type:        function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		if args[0].Type() == cty.String {
			return stdlib.Strlen(args[0])
		}
		return stdlib.Length(args[0])
	},
})
