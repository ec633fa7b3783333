package policies

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// doubling returns locals l0..l40 where each is built from two copies of
// the one before by expr, in which PREV stands for the reference.
func doubling(first, expr string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "locals {\n  l0 = %s\n", first)
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "  l%d = %s\n", i, strings.ReplaceAll(expr, "PREV", fmt.Sprintf("local.l%d", i-1)))
	}
	b.WriteString("}\n")
	return b.String()
}

// pairing returns locals t0..t59 where each is a tuple of two of the one
// before (2^60 strings in t59, all shared), and a last local using t59.
func pairing(use string) string {
	var b strings.Builder
	b.WriteString("locals {\n  t0 = [\"x\", \"x\"]\n")
	for i := 1; i < 60; i++ {
		fmt.Fprintf(&b, "  t%d = [local.t%d, local.t%d]\n", i, i-1, i-1)
	}
	fmt.Fprintf(&b, "  s = %s\n}\n", use)
	return b.String()
}

// TestExpansionBounded: policies that build huge values from a short
// file are refused with one error at the local or call that crosses the
// limit, quickly and in little memory.
func TestExpansionBounded(t *testing.T) {
	big := `format("%0200000d", 1)` // 200,000 bytes: within the limit
	tests := []struct {
		name, src, summary string
	}{
		{"doubling by interpolation", doubling(`"xxxxxxxxxxxxxxxx"`, `"${PREV}${PREV}"`), "Value too large"},
		{"doubling by format", doubling(`"xxxxxxxxxxxxxxxx"`, `format("%s%s", PREV, PREV)`), "Error in function call"},
		{"doubling by join", doubling(`"xxxxxxxxxxxxxxxx"`, `join("", [PREV, PREV])`), "Error in function call"},
		{"doubling by concat", doubling(`["x"]`, `concat(PREV, PREV)`), "Value too large"},
		{"doubling by upper", doubling(`"xxxxxxxxxxxxxxxx"`, `upper("${PREV}${PREV}")`), "Value too large"},
		{"a format width", "locals {\n  w = format(\"%2000000000s\", \"x\")\n}\n", "Error in function call"},
		{"a format precision", "locals {\n  w = format(\"%.900000f\", 1)\n}\n", "Error in function call"},
		{"many format widths", "locals {\n  w = format(\"" + strings.Repeat("%9999d", 100) + "\"" + strings.Repeat(", 1", 100) + ")\n}\n", "Error in function call"},
		{"a separator repeated by join", "locals {\n  sep = format(\"%0100000d\", 1)\n  l = split(\"\", format(\"%099d\", 1))\n  j = join(local.sep, local.l)\n}\n", "Error in function call"},
		{"a string split into characters", "locals {\n  s = " + big + "\n  l = split(\"\", local.s)\n}\n", "Error in function call"},
		{"2^60 strings formatted", pairing(`format("%v", local.t59)`), "Value too large"},
		{"2^60 strings compared", pairing(`local.t59 == local.t59`), "Value too large"},
		{"squaring a number", doubling("1e300", "PREV * PREV"), "Value too large"},
		{"a huge literal", "locals {\n  n = \"x${1e600000000}\"\n}\n", "Number out of range"},
		{"a huge JSON number", `{"locals": {"n": 1e-600000000}}`, "Number out of range"},
		{"a for expression", "locals {\n  l = split(\"\", format(\"%0999d\", 1))\n  f = [for x in local.l : [for y in local.l : x]]\n}\n", "For expression not supported"},
		{"a for directive", "locals {\n  f = \"%{ for x in [1] }${x}%{ endfor }\"\n}\n", "For expression not supported"},
		{"a for in a JSON template", `{"locals": {"f": "${[for x in [1] : x]}"}}`, "For expression not supported"},
		{"a template in an argument", "locals {\n  s = " + big + "\n}\nprofile \"p\" {\n  cancel {\n    step \"s\" {\n      command = [\"" + strings.Repeat("${local.s}", 1000) + "\"]\n    }\n    deadline = \"1s\"\n  }\n}\n", "Value too large"},
		{"the work of a file", "locals {\n  s = " + big + "\n" + func() string {
			var b strings.Builder
			for i := range 200 {
				fmt.Fprintf(&b, "  c%d = length(local.s)\n", i)
			}
			return b.String()
		}() + "}\n", "Evaluation limit reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "expand.hcl"
			if strings.HasPrefix(tt.src, "{") {
				name += ".json"
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, text := loadWithin(t, name, []byte(tt.src), 10*time.Second)
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 128<<20 {
				t.Errorf("loading allocated %d MiB", alloc>>20)
			}
			if n := strings.Count(text, "Error: "); n != 1 || !strings.Contains(text, "Error: "+tt.summary+"\n") {
				t.Errorf("want one %q, got %d errors:\n%.3000s", tt.summary, n, text)
			}
			if len(text) > 4096 {
				t.Errorf("%d bytes of diagnostics", len(text))
			}
		})
	}
}

// TestValuesWithinLimitsLoad: values up to the limit, and formats, joins
// and splits of them, still work.
func TestValuesWithinLimitsLoad(t *testing.T) {
	src := `locals {
  s     = format("%0100000d", 7)
  twice = "${local.s}${local.s}"
  words = split(" ", join(" ", ["a", "b", "c"]))
  n     = 1e300 * 1e-300
}
profile "p" {
  on "SIGTERM" { actions = ["cancel"] }
  cancel {
    step "kill" {
      at     = seconds(length(local.twice) / 100000 + length(local.words) + local.n)
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
`
	pol, text := loadWithin(t, "ok.hcl", []byte(src), 10*time.Second)
	if text != "" {
		t.Fatal(text)
	}
	p, err := pol.Profile("p")
	if err != nil {
		t.Fatal(err)
	}
	if p.Steps[0].At != 6*time.Second {
		t.Errorf("at = %s, want 6s", p.Steps[0].At)
	}
}
