package policies

import (
	"fmt"

	"github.com/graceful-sh/graceful/engine/supervise"

	"github.com/hashicorp/hcl/v2"

	"github.com/graceful-sh/graceful/engine"
)

// Trigger is an `on "SIGNAL" { actions = [...] }` block: what the 1st, 2nd,
// ... delivery of a signal to graceful means.
type Trigger struct {
	Signal       string
	SignalRange  hcl.Range
	Actions      []engine.Action
	ActionsRange hcl.Range
	DeclRange    hcl.Range

	owner *Profile
}

var onSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "actions", Required: true}},
}

func actionNames() []string {
	out := make([]string, len(engine.Actions))
	for i, a := range engine.Actions {
		out[i] = string(a)
	}
	return out
}

// decodeOnBlock decodes an on block. It returns nil when the signal itself
// is unusable.
func decodeOnBlock(block *hcl.Block, ctx *hcl.EvalContext) (*Trigger, hcl.Diagnostics) {
	t := &Trigger{
		Signal:      block.Labels[0],
		SignalRange: block.LabelRanges[0],
		DeclRange:   block.DefRange,
	}
	content, diags := block.Body.Content(onSchema)

	// A bad signal makes the trigger unusable, but its actions are still
	// checked: the two mistakes are independent and a user should see both.
	usable := true
	switch {
	case uncatchable[t.Signal]:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Uncatchable signal",
			Detail:   fmt.Sprintf("%s cannot be caught, so it can never trigger anything. Remove this block; use SIGTERM or SIGINT for a catchable stop request.", t.Signal),
			Subject:  t.SignalRange.Ptr(),
		})
		usable = false
	case RuntimeReserved(t.Signal):
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Signal reserved by the Go runtime",
			Detail:   fmt.Sprintf("The Go runtime graceful is written in %s, so a trigger on it would not follow real deliveries. Remove this block; for a custom request use SIGUSR1 or SIGUSR2. Sending %s to the job from a step stays allowed.", supervise.ReservedReason(t.Signal), t.Signal),
			Subject:  t.SignalRange.Ptr(),
		})
		usable = false
	case !signalSet[t.Signal]:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unknown signal",
			Detail:   fmt.Sprintf("%q is not a signal name. %s", t.Signal, SignalSuggestion(t.Signal)),
			Subject:  t.SignalRange.Ptr(),
		})
		usable = false
	}
	diags = append(diags, decodeActions(t, content, ctx)...)
	if !usable {
		return nil, diags
	}
	return t, diags
}

// decodeActions decodes the actions argument of an on block into t.
func decodeActions(t *Trigger, content *hcl.BodyContent, ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	attr, ok := content.Attributes["actions"]
	if !ok {
		return diags
	}
	t.ActionsRange = attr.Expr.Range()
	valid := actionNames()
	items, d := stringListItems(attr, ctx, `["cancel", "exit"]`)
	diags = append(diags, d...)
	if d.HasErrors() {
		return diags
	}
	if len(items) == 0 {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No actions",
			Detail:   fmt.Sprintf("Give the action for the 1st, 2nd, ... delivery of %s, e.g. [\"cancel\", \"exit\"]; for a signal that should do nothing use [\"ignore\"].", t.Signal),
			Subject:  attr.Expr.Range().Ptr(),
		})
		return diags
	}
	for _, it := range items {
		if !contains(valid, it.Value) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown action",
				Detail:   fmt.Sprintf("%q is not an action; use drain, cancel, exit, ignore or forward.%s", it.Value, didYouMeanWord(it.Value, valid)),
				Subject:  it.Range.Ptr(),
			})
			continue
		}
		a := engine.Action(it.Value)
		if n := len(t.Actions); n > 0 && t.Actions[n-1] == engine.ActionExit {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unreachable action",
				Detail:   "graceful has already exited after an exit action, so later deliveries can never happen. Remove the actions after \"exit\".",
				Subject:  it.Range.Ptr(),
			})
			continue
		}
		t.Actions = append(t.Actions, a)
	}
	return diags
}

// stringListItems decodes a list of strings keeping each element's range
// when the list is written literally, so a diagnostic can point at the one
// bad element. A computed list gets the whole expression's range.
func stringListItems(attr *hcl.Attribute, ctx *hcl.EvalContext, example string) ([]String, hcl.Diagnostics) {
	if exprs, d := hcl.ExprList(attr.Expr); !d.HasErrors() {
		var diags hcl.Diagnostics
		out := make([]String, 0, len(exprs))
		for _, e := range exprs {
			v, d := decodeString(&hcl.Attribute{Name: attr.Name, Expr: e, Range: e.Range(), NameRange: attr.NameRange}, ctx)
			diags = append(diags, d...)
			if v != nil {
				out = append(out, *v)
			}
		}
		return out, diags
	}
	vals, diags := decodeStringList(attr, ctx, example)
	out := make([]String, len(vals))
	for i, v := range vals {
		out[i] = String{Value: v, Range: attr.Expr.Range()}
	}
	return out, diags
}
