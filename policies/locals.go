package policies

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Locals are a file's named values: `locals { grace = "9s" }` defines
// local.grace for every expression in the same file. Locals may refer to
// each other in any order; a cycle is an error. They are file-scoped: a
// profile in another file (or one that extends this one) does not see them.

// decodeLocalsBlocks evaluates every locals block of a file and returns the
// evaluation context for the rest of it.
func decodeLocalsBlocks(blocks []*hcl.Block, lookupEnv func(string) (string, bool)) (*hcl.EvalContext, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	attrs := map[string]*hcl.Attribute{}
	for _, b := range blocks {
		as, adiags := b.Body.JustAttributes()
		diags = append(diags, adiags...)
		// Source order makes the diagnostics deterministic.
		sorted := make([]*hcl.Attribute, 0, len(as))
		for _, a := range as {
			sorted = append(sorted, a)
		}
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].Range.Start.Byte < sorted[j].Range.Start.Byte })
		for _, a := range sorted {
			if prev, ok := attrs[a.Name]; ok {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate local value",
					Detail:   fmt.Sprintf("A local value named %q was already defined at %s. Local value names must be unique within a file.", a.Name, pos(prev.NameRange)),
					Subject:  a.NameRange.Ptr(),
				})
				continue
			}
			attrs[a.Name] = a
		}
	}

	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		return attrs[names[i]].Range.Start.Byte < attrs[names[j]].Range.Start.Byte
	})

	// Check references first, so that an unknown name is reported as such
	// and not as a cycle. A local with a bad reference is not evaluated;
	// it is unknown to the rest of the file.
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	deps := map[string][]string{}
	badRef := map[string]bool{}
	for _, n := range names {
		refs, rdiags := localRefs(attrs[n].Expr, known, names)
		diags = append(diags, rdiags...)
		if rdiags.HasErrors() {
			badRef[n] = true
		}
		deps[n] = refs
	}

	ctx := newEvalContext(lookupEnv, map[string]cty.Value{})

	// Evaluate in dependency order (Kahn's algorithm), each local once and
	// in a context that holds only the locals it refers to, so the work is
	// linear in the file: repeated passes that rebuilt an object of every
	// local for each evaluation made 20,000 locals take minutes. The queue
	// starts in source order, which keeps the diagnostics deterministic.
	waiting := make(map[string]int, len(names))
	users := make(map[string][]string, len(names))
	for _, n := range names {
		seen := map[string]bool{}
		for _, d := range deps[n] {
			if !seen[d] {
				seen[d] = true
				waiting[n]++
				users[d] = append(users[d], n)
			}
		}
	}
	queue := make([]string, 0, len(names))
	for _, n := range names {
		if waiting[n] == 0 {
			queue = append(queue, n)
		}
	}
	vals := make(map[string]cty.Value, len(names))
	done := make(map[string]bool, len(names))
	b := budgetOf(ctx)
	failed := map[string]bool{}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		failedDep := false
		for _, d := range deps[n] {
			failedDep = failedDep || failed[d]
		}
		if badRef[n] || failedDep {
			// Unknown, without a word: the failed local's error says it.
			// Evaluating it with unknown parts would let a chain that
			// outgrew the limits grow again from nothing.
			vals[n] = cty.DynamicVal
			failed[n] = true
		} else {
			own := make(map[string]cty.Value, len(deps[n]))
			for _, d := range deps[n] {
				own[d] = vals[d]
			}
			local := &hcl.EvalContext{Variables: map[string]cty.Value{"local": cty.ObjectVal(own)}, Functions: ctx.Functions}
			v, size, vdiags := evalBounded(attrs[n].Expr, local, b, fmt.Sprintf("the local value %q", n))
			diags = append(diags, vdiags...)
			if vdiags.HasErrors() {
				v = cty.DynamicVal
				failed[n] = true
			}
			vals[n] = v
			b.sizes[n] = size
		}
		done[n] = true
		for _, u := range users[n] {
			if waiting[u]--; waiting[u] == 0 {
				queue = append(queue, u)
			}
		}
	}
	if len(done) < len(names) {
		// What is left waits on a cycle, or on a local that does; name
		// the first in source order.
		for _, n := range names {
			if !done[n] {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Local value cycle",
					Detail:   fmt.Sprintf("The local value %q depends on itself, directly or through other local values. Break the cycle.", n),
					Subject:  attrs[n].NameRange.Ptr(),
				})
				break
			}
		}
	}
	// Locals left out by a cycle are unknown too: every declared name
	// exists, so a reference to it is not reported again as undeclared.
	for _, n := range names {
		if !done[n] {
			vals[n] = cty.DynamicVal
		}
	}
	ctx.Variables["local"] = cty.ObjectVal(vals)
	return ctx, diags
}

// localRefs returns the local values expr refers to, and diagnostics for
// references that are not local.NAME of a declared name (names lists the
// declared ones, for suggestions). Other variables are left to hcl, which
// reports them as unknown on evaluation.
func localRefs(expr hcl.Expression, known map[string]bool, names []string) ([]string, hcl.Diagnostics) {
	var refs []string
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		if tr.RootName() != "local" {
			continue
		}
		var ga hcl.TraverseAttr
		ok := len(tr) >= 2
		if ok {
			ga, ok = tr[1].(hcl.TraverseAttr)
		}
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid reference",
				Detail:   "Refer to a local value by name, as local.NAME.",
				Subject:  tr.SourceRange().Ptr(),
			})
			continue
		}
		if !known[ga.Name] {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Reference to undeclared local value",
				Detail:   fmt.Sprintf("No local value named %q is defined in this file.%s Declare it in a locals block.", ga.Name, didYouMean(ga.Name, names)),
				Subject:  tr.SourceRange().Ptr(),
			})
			continue
		}
		refs = append(refs, ga.Name)
	}
	return refs, diags
}

// newEvalContext returns the context every policy expression is evaluated
// in: the functions and the variables given.
func newEvalContext(lookupEnv func(string) (string, bool), vars map[string]cty.Value) *hcl.EvalContext {
	if vars == nil {
		vars = map[string]cty.Value{}
	}
	if _, ok := vars["local"]; !ok {
		vars["local"] = cty.EmptyObjectVal
	}
	b := newEvalBudget()
	vars[budgetVar] = cty.CapsuleVal(budgetType, b)
	return &hcl.EvalContext{Variables: vars, Functions: functions(lookupEnv, b)}
}
