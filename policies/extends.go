package policies

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// A profile with extends = "NAME" starts from the named profile and
// overrides parts of it:
//
//   - description, runner, budget, cancel.deadline and each exit code: the
//     child's value when it sets one;
//   - on blocks: per signal; the child's block for a signal replaces the
//     parent's, other signals are inherited;
//   - steps: per name; a child step replaces the parent's step of the same
//     name, a new name is added, and `disabled = true` removes one;
//   - finalize: the child's block replaces the parent's whole.
//
// NAME is looked up among the loaded files' profiles, then the built-ins.
// A profile never extends itself, so `profile "process" { extends =
// "process" }` extends the built-in of that name.

// resolved is a profile with its extends chain applied. Each part still
// knows the profile it came from (its owner), so validation can blame the
// most derived definition when two parts conflict.
type resolved struct {
	self *Profile
	// chain is self, its parent, grandparent, ...
	chain []*Profile

	description *String
	runner      *String
	budget      *Duration
	deadline    *Duration
	triggers    []*Trigger
	steps       []*Step
	finalize    *Finalize
	abandoned   *Int
	timeout     *Int

	// owners of the scalar parts, for blame.
	runnerOwner, budgetOwner, deadlineOwner *Profile
}

// depth is how far up the chain q is: 0 for the profile itself. An
// unknown owner counts as farthest.
func (r *resolved) depth(q *Profile) int {
	for i, c := range r.chain {
		if c == q {
			return i
		}
	}
	return len(r.chain)
}

// cancelRange is where to point for a problem with the timeline as a whole.
func (r *resolved) cancelRange() hcl.Range {
	for _, p := range r.chain {
		if p.Cancel != nil {
			return p.Cancel.DeclRange
		}
	}
	return r.self.DeclRange
}

// resolver resolves extends chains with memoisation and cycle detection.
type resolver struct {
	user     map[string]*Profile
	builtins map[string]*Profile
	done     map[*Profile]*resolved
	failed   map[*Profile]bool
	visiting map[*Profile]bool
	// stack is the chain being resolved, for naming a cycle.
	stack []*Profile
	diags hcl.Diagnostics
}

func newResolver(user, builtins []*Profile) *resolver {
	r := &resolver{
		user:     map[string]*Profile{},
		builtins: map[string]*Profile{},
		done:     map[*Profile]*resolved{},
		failed:   map[*Profile]bool{},
		visiting: map[*Profile]bool{},
	}
	for _, p := range builtins {
		r.builtins[p.Name] = p
	}
	for _, p := range user {
		if _, dup := r.user[p.Name]; !dup {
			r.user[p.Name] = p
		}
	}
	return r
}

// lookup finds the profile that `extends = name` in from refers to.
func (r *resolver) lookup(name string, from *Profile) *Profile {
	if p, ok := r.user[name]; ok && p != from && !from.Builtin {
		return p
	}
	if p, ok := r.builtins[name]; ok && p != from {
		return p
	}
	return nil
}

func (r *resolver) names() []string {
	var out []string
	for n := range r.user {
		out = append(out, n)
	}
	for n := range r.builtins {
		if _, ok := r.user[n]; !ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// resolve returns p with its chain applied, or nil when p or an ancestor is
// broken (already reported) or the chain is unusable (reported here).
func (r *resolver) resolve(p *Profile) *resolved {
	if res, ok := r.done[p]; ok {
		return res
	}
	if r.failed[p] || p.Broken {
		return nil
	}
	if r.visiting[p] {
		return nil // the caller reports the cycle
	}
	r.visiting[p] = true
	r.stack = append(r.stack, p)
	defer func() {
		delete(r.visiting, p)
		r.stack = r.stack[:len(r.stack)-1]
	}()

	var parent *resolved
	if p.Extends != nil {
		q := r.lookup(p.Extends.Value, p)
		switch {
		case q == nil:
			r.diags = append(r.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown profile to extend",
				Detail:   fmt.Sprintf("No profile named %q is loaded (have: %s).%s Load the file that defines it, or extend a built-in.", p.Extends.Value, joinNames(r.namesBut(p.Name)), didYouMean(p.Extends.Value, r.namesBut(p.Name))),
				Subject:  p.Extends.Range.Ptr(),
			})
			r.failed[p] = true
			return nil
		case r.visiting[q]:
			r.diags = append(r.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Extends cycle",
				Detail:   fmt.Sprintf("The profiles extend each other in a circle: %s. Break the cycle by removing one extends.", r.cycle(q)),
				Subject:  p.Extends.Range.Ptr(),
			})
			r.failed[p] = true
			return nil
		}
		parent = r.resolve(q)
		if parent == nil {
			r.failed[p] = true
			return nil
		}
	}

	res, ok := r.merge(parent, p)
	if !ok {
		r.failed[p] = true
		return nil
	}
	r.done[p] = res
	return res
}

// merge applies p's parts over parent (which may be nil).
func (r *resolver) merge(parent *resolved, p *Profile) (*resolved, bool) {
	res := &resolved{self: p, chain: []*Profile{p}}
	if parent != nil {
		res.chain = append(res.chain, parent.chain...)
		res.description = parent.description
		res.runner, res.runnerOwner = parent.runner, parent.runnerOwner
		res.budget, res.budgetOwner = parent.budget, parent.budgetOwner
		res.deadline, res.deadlineOwner = parent.deadline, parent.deadlineOwner
		res.triggers = append(res.triggers, parent.triggers...)
		res.steps = append(res.steps, parent.steps...)
		res.finalize = parent.finalize
		res.abandoned, res.timeout = parent.abandoned, parent.timeout
	}
	if p.Description != nil {
		res.description = p.Description
	}
	if p.Runner != nil {
		res.runner, res.runnerOwner = p.Runner, p
	}
	if p.Budget != nil {
		res.budget, res.budgetOwner = p.Budget, p
	}
	if len(p.Triggers) > 0 {
		ts := append([]*Trigger(nil), res.triggers...)
	next:
		for _, t := range p.Triggers {
			for i, pt := range ts {
				if pt.Signal == t.Signal {
					ts[i] = t
					continue next
				}
			}
			ts = append(ts, t)
		}
		res.triggers = ts
	}
	ok := true
	if p.Cancel != nil {
		if p.Cancel.Deadline != nil {
			res.deadline, res.deadlineOwner = p.Cancel.Deadline, p
		}
		for _, s := range p.Cancel.Steps {
			idx := -1
			for i, ps := range res.steps {
				if ps.Name == s.Name {
					idx = i
					break
				}
			}
			switch {
			case s.Disabled && idx < 0:
				detail := fmt.Sprintf("disabled = true removes an inherited step, but no step named %q is inherited.", s.Name)
				if parent == nil {
					detail = fmt.Sprintf("disabled = true removes an inherited step, but profile %q extends nothing. Remove the step.", p.Name)
				} else {
					var have []string
					for _, ps := range res.steps {
						have = append(have, ps.Name)
					}
					detail += didYouMean(s.Name, have)
				}
				r.diags = append(r.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Nothing to disable",
					Detail:   detail,
					Subject:  s.NameRange.Ptr(),
				})
				ok = false
			case s.Disabled:
				res.steps = append(res.steps[:idx:idx], res.steps[idx+1:]...)
			case idx >= 0:
				steps := append([]*Step(nil), res.steps...)
				steps[idx] = s
				res.steps = steps
			default:
				res.steps = append(res.steps[:len(res.steps):len(res.steps)], s)
			}
		}
	}
	if p.Finalize != nil {
		res.finalize = p.Finalize
	}
	if p.ExitCodes != nil {
		if p.ExitCodes.Abandoned != nil {
			res.abandoned = p.ExitCodes.Abandoned
		}
		if p.ExitCodes.Timeout != nil {
			res.timeout = p.ExitCodes.Timeout
		}
	}
	return res, ok
}

// cycle names the loop of the stack that starts at q: "a -> b -> a".
func (r *resolver) cycle(q *Profile) string {
	var names []string
	for i := len(r.stack) - 1; i >= 0; i-- {
		names = append([]string{r.stack[i].Name}, names...)
		if r.stack[i] == q {
			break
		}
	}
	return strings.Join(append(names, q.Name), " -> ")
}

// namesBut is the names a profile named self can extend: not itself,
// unless a built-in has its name (see lookup).
func (r *resolver) namesBut(self string) []string {
	var out []string
	for _, n := range r.names() {
		if _, builtin := r.builtins[n]; n != self || builtin {
			out = append(out, n)
		}
	}
	return out
}

func joinNames(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}
