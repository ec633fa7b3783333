package policies

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

func TestFunctions(t *testing.T) {
	env := map[string]string{"SET": "7", "EMPTY": ""}
	ctx := newEvalContext(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, nil)
	tests := []struct {
		name    string
		expr    string
		want    cty.Value
		wantErr string
	}{
		{"env returns a set variable", `env("SET", "1")`, cty.StringVal("7"), ""},
		{"env falls back to the default when unset", `env("UNSET", "1s")`, cty.StringVal("1s"), ""},
		{"env treats empty as unset", `env("EMPTY", "x")`, cty.StringVal("x"), ""},
		{"env converts a number default", `env("UNSET", -1)`, cty.StringVal("-1"), ""},
		{"env without default needs the variable", `env("UNSET")`, cty.NilVal, "not set and no default"},
		{"seconds of a number", `seconds(10)`, cty.StringVal("10s"), ""},
		{"seconds of a numeric string", `seconds("2.5")`, cty.StringVal("2.5s"), ""},
		{"seconds may be negative", `seconds(-1)`, cty.StringVal("-1s"), ""},
		{"seconds of a word fails", `seconds("ten")`, cty.NilVal, "number is required"},
		{"milliseconds", `milliseconds(1500)`, cty.StringVal("1.5s"), ""},
		{"duration normalises", `duration("90s")`, cty.StringVal("1m30s"), ""},
		{"duration rejects a non-duration", `duration("soon")`, cty.NilVal, "not a duration"},
		{"to_seconds", `to_seconds("1m30s")`, cty.NumberFloatVal(90), ""},
		{"duration_add adds any number", `duration_add("10s", "-1s", "500ms")`, cty.StringVal("9.5s"), ""},
		{"duration_sub", `duration_sub("10s", "2.5s")`, cty.StringVal("7.5s"), ""},
		{"duration_mul", `duration_mul("2s", 1.5)`, cty.StringVal("3s"), ""},
		{"duration_min", `duration_min("10s", "9s", "1m")`, cty.StringVal("9s"), ""},
		{"duration_max", `duration_max("10s", "9s")`, cty.StringVal("10s"), ""},
		{"numeric min and max", `max(1, min(5, 3))`, cty.NumberIntVal(3), ""},
		{"conditional on an env value", `tonumber(env("UNSET", -1)) < 0 ? "neg" : "pos"`, cty.StringVal("neg"), ""},
		{"length of a string", `length("héllo")`, cty.NumberIntVal(5), ""},
		{"length of a list", `length(["a", "b"])`, cty.NumberIntVal(2), ""},
		{"seconds out of range", `seconds(1e300)`, cty.NilVal, "out of range"},
		{"duration_add at the maximum", `duration_add("2562047h47m16.854775807s", "-1ns", "1ns")`, cty.StringVal("2562047h47m16.854775807s"), ""},
		{"duration_add past the maximum", `duration_add("2562047h47m16.854775807s", "1ns")`, cty.NilVal, "sum is out of range"},
		{"duration_add past the minimum", `duration_add("-2562047h47m16.854775808s", "-1ns")`, cty.NilVal, "sum is out of range"},
		{"duration_add overflows in a later argument", `duration_add("1s", "2562047h", "2562047h")`, cty.NilVal, "sum is out of range"},
		{"duration_sub past the minimum", `duration_sub("-2562047h47m16.854775808s", "1ns")`, cty.NilVal, "difference is out of range"},
		{"duration_sub past the maximum", `duration_sub("2562047h", "-2562047h")`, cty.NilVal, "difference is out of range"},
		{"duration_sub to the minimum", `duration_sub("-2562047h47m16.854775807s", "1ns")`, cty.StringVal("-2562047h47m16.854775808s"), ""},
		{"duration_mul out of range", `duration_mul("2562047h", 2)`, cty.NilVal, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expr, diags := hclsyntax.ParseExpression([]byte(tt.expr), "test.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got, diags := expr.Value(ctx)
			if tt.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), tt.wantErr) {
					t.Errorf("want error containing %q, got %v (%#v)", tt.wantErr, diags, got)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if !got.RawEquals(tt.want) && !(got.Type() == cty.Number && got.Equals(tt.want).True()) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}
