package policies

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// loadWithin loads src as one file and fails the test when that takes
// longer than limit. The bounds are generous (tests run under -race on a
// loaded machine); they catch work that grows faster than the input, which
// takes orders of magnitude longer.
func loadWithin(t *testing.T, name string, src []byte, limit time.Duration) (*Policy, string) {
	t.Helper()
	type result struct {
		pol  *Policy
		text string
	}
	done := make(chan result, 1)
	go func() {
		pol, diags := LoadSources([]Source{{Name: name, Src: src}}, Options{LookupEnv: noEnv})
		done <- result{pol, pol.RenderDiagnostics(diags, 0, false)}
	}()
	select {
	case r := <-done:
		return r.pol, r.text
	case <-time.After(limit):
		t.Fatalf("loading %s (%d bytes) took over %s", name, len(src), limit)
		return nil, ""
	}
}

// TestManyLocalsLoadInLinearTime: 20,000 locals, most independent and
// 2,000 in a chain written backwards (the worst order for evaluation in
// passes), load in well under the bound.
func TestManyLocalsLoadInLinearTime(t *testing.T) {
	var b strings.Builder
	b.WriteString("locals {\n")
	for i := range 18000 {
		fmt.Fprintf(&b, "  value_%d = \"value number %d\"\n", i, i)
	}
	for i := range 1999 {
		fmt.Fprintf(&b, "  chain_%d = local.chain_%d\n", i, i+1)
	}
	b.WriteString("  chain_1999 = \"9s\"\n}\n")
	b.WriteString(`profile "p" {
  on "SIGTERM" { actions = ["cancel"] }
  cancel {
    step "kill" {
      at     = local.chain_0
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
`)
	pol, text := loadWithin(t, "many-locals.hcl", []byte(b.String()), 15*time.Second)
	if text != "" {
		t.Fatal(text)
	}
	p, err := pol.Profile("p")
	if err != nil {
		t.Fatal(err)
	}
	if p.Steps[0].At != 9*time.Second {
		t.Errorf("the chain evaluated to %s, want 9s", p.Steps[0].At)
	}
}
