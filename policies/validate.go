package policies

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/graceful-sh/graceful/engine"
)

// The semantic rules below run only on profiles that decoded cleanly and
// whose extends chain resolved. Each returns diagnostics whose summary is
// listed in docs/policy.md.

// blame returns the range of whichever of two conflicting parts is defined
// in the more derived profile (a, on a tie).
func (r *resolved) blame(a hcl.Range, aOwner *Profile, b hcl.Range, bOwner *Profile) hcl.Range {
	if r.depth(bOwner) < r.depth(aOwner) {
		return b
	}
	return a
}

// validateResolved checks one resolved profile against the timeline rules
// of docs/policy.md ("Validation") and the optional external budget.
func validateResolved(r *resolved, opts Options) hcl.Diagnostics {
	var diags hcl.Diagnostics
	p := r.self
	runner := engine.RunnerProcess
	if r.runner != nil {
		runner = r.runner.Value
	}

	// Steps out of order: within one cancel block, steps are listed in
	// timeline order, so the file reads like the timeline it describes.
	if p.Cancel != nil {
		var prev *Step
		for _, s := range p.Cancel.Steps {
			if s.Disabled {
				continue
			}
			if prev != nil && s.at() < prev.at() {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Step out of order",
					Detail:   fmt.Sprintf("Step %q at %s is listed after step %q at %s. List steps in the order they happen.", s.Name, FormatDuration(s.at()), prev.Name, FormatDuration(prev.at())),
					Subject:  s.atRange().Ptr(),
				})
			}
			prev = s
		}
	}

	// Triggers: forwarding needs signals to reach the job, and a profile
	// in which no signal stops graceful can only be stopped by SIGKILL.
	stops := false
	for _, t := range r.triggers {
		for i, a := range t.Actions {
			switch a {
			case engine.ActionDrain, engine.ActionCancel, engine.ActionExit:
				stops = true
			case engine.ActionForward:
				if runner == engine.RunnerKubernetes {
					rng := t.ActionsRange
					if r.runner != nil {
						rng = r.blame(t.ActionsRange, t.owner, r.runner.Range, r.runnerOwner)
					}
					diags = append(diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Forward in a kubernetes profile",
						Detail:   fmt.Sprintf("Delivery %d of %s is forwarded, but the kubernetes runner cannot signal across PID namespaces. Use \"cancel\" (the job is then notified) or \"ignore\".", i+1, t.Signal),
						Subject:  rng.Ptr(),
					})
				}
			}
		}
	}
	if !stops {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "No signal stops graceful",
			Detail:   fmt.Sprintf("No on block of profile %q drains, cancels or exits, so SIGINT and SIGTERM are ignored and only --timeout or SIGKILL end a run. Add e.g. on \"SIGTERM\" { actions = [\"cancel\", \"exit\"] }.", p.Name),
			Subject:  p.NameRange.Ptr(),
		})
	}

	if r.deadline == nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing deadline",
			Detail:   missingDeadline(r),
			Subject:  r.cancelRange().Ptr(),
		})
		return diags
	}
	deadline := r.deadline.Value

	steps := r.sortedSteps()
	for _, s := range steps {
		if s.at() >= deadline {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Step after the deadline",
				Detail:   stepAfterDeadline(s, p, deadline) + reserveNote(s, r.finalize, deadline),
				Subject:  r.blame(s.atRange(), s.owner, r.deadline.Range, r.deadlineOwner).Ptr(),
			})
		}
		if runner != engine.RunnerKubernetes && s.Kind == engine.StepNotify {
			rng := s.KindRange
			if r.runner != nil {
				rng = r.blame(s.KindRange, s.owner, r.runner.Range, r.runnerOwner)
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Notify step without a channel",
				Detail:   fmt.Sprintf("Step %q notifies %q, but the %s runner has no channel to the job; only the kubernetes runner does. Send a signal instead, e.g. signal = \"SIGTERM\".", s.Name, s.Notify, runner),
				Subject:  rng.Ptr(),
			})
		}
		if runner == engine.RunnerKubernetes && s.Kind == engine.StepNotify && !contains(notifications, s.Notify) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown notification",
				Detail:   fmt.Sprintf("The kubernetes runner knows the notification %s, not %q.%s", strings.Join(quoteAll(notifications), ", "), s.Notify, didYouMean(s.Notify, notifications)),
				Subject:  s.KindRange.Ptr(),
			})
		}
		if s.Kind == engine.StepCommand && s.Timeout != nil && s.at()+s.Timeout.Value > deadline {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Command timeout past the deadline",
				Detail:   fmt.Sprintf("Step %q starts at %s with a timeout of %s, but everything is cut off at the deadline %s. Lower the timeout to %s or remove it.", s.Name, FormatDuration(s.at()), FormatDuration(s.Timeout.Value), FormatDuration(deadline), FormatDuration(deadline-s.at())),
				Subject:  s.Timeout.Range.Ptr(),
			})
		}
		if runner == engine.RunnerKubernetes && s.Kind == engine.StepSignal {
			rng := s.KindRange
			if r.runner != nil {
				rng = r.blame(s.KindRange, s.owner, r.runner.Range, r.runnerOwner)
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Signal step in a kubernetes profile",
				Detail:   fmt.Sprintf("Step %q sends %s, but the kubernetes runner cannot signal across PID namespaces. Use notify = \"interrupt\" to ask the job to stop and abandon = true to give up on it.", s.Name, s.Signal),
				Subject:  rng.Ptr(),
			})
		}
	}

	var escalation *Step
	for _, s := range steps {
		if s.asEngine().Escalates() {
			escalation = s
			break
		}
	}
	if escalation == nil {
		hint := "a signal = \"SIGKILL\" step (target \"tree\")"
		if runner == engine.RunnerKubernetes {
			hint = "an abandon = true step"
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Timeline never escalates",
			Detail:   fmt.Sprintf("No step of profile %q kills or abandons the job, so a job that ignores its stop request holds everything until the deadline. Add %s before the deadline.", p.Name, hint),
			Subject:  r.cancelRange().Ptr(),
		})
	}

	if f := r.finalize; f != nil && escalation != nil && escalation.at() < deadline {
		left := deadline - escalation.at()
		if left < f.reserve() {
			rng := r.blame(escalation.atRange(), escalation.owner, r.deadline.Range, r.deadlineOwner)
			if f.Reserve != nil && r.depth(f.owner) < min(r.depth(escalation.owner), r.depth(r.deadlineOwner)) {
				rng = f.Reserve.Range
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No time left for finalisation",
				Detail:   fmt.Sprintf("The job may only be stopped by step %q at %s, leaving %s before the deadline %s, but finalisation reserves %s. Escalate earlier, raise the deadline, or lower finalize.reserve.", escalation.Name, FormatDuration(escalation.at()), FormatDuration(left), FormatDuration(deadline), FormatDuration(f.reserve())),
				Subject:  rng.Ptr(),
			})
		}
	}

	if r.budget != nil && deadline > r.budget.Value {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Deadline over budget",
			Detail:   fmt.Sprintf("The deadline %s is longer than the profile's budget %s; the surrounding system kills everything at the budget. Lower the deadline to %s or less.", FormatDuration(deadline), FormatDuration(r.budget.Value), FormatDuration(r.budget.Value)),
			Subject:  r.blame(r.deadline.Range, r.deadlineOwner, r.budget.Range, r.budgetOwner).Ptr(),
		})
	}
	if opts.CheckBudget && deadline > opts.Budget && (len(opts.BudgetProfiles) == 0 || slices.Contains(opts.BudgetProfiles, p.Name)) {
		src := opts.BudgetSource
		if src == "" {
			src = "the given budget"
		}
		fix := fmt.Sprintf("Lower the deadline to %s or less.", FormatDuration(opts.Budget))
		if opts.Budget <= 0 {
			// No deadline is zero, so none fits: the fix is the budget.
			fix = fmt.Sprintf("A zero budget leaves no time to stop the job at all; allow at least the deadline, %s.", FormatDuration(deadline))
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Deadline over budget",
			Detail:   fmt.Sprintf("The deadline %s of profile %q is longer than %s. %s", FormatDuration(deadline), p.Name, src, fix),
			Subject:  r.deadline.Range.Ptr(),
		})
	}
	return diags
}

// missingDeadline explains a profile without a deadline; one without any
// cancel block is told what such a block holds.
func missingDeadline(r *resolved) string {
	for _, q := range r.chain {
		if q.Cancel != nil {
			return fmt.Sprintf("Profile %q has no cancel deadline (the dead-man's switch). Add deadline = \"10s\" to its cancel block, or extend a profile that has one.", r.self.Name)
		}
	}
	return fmt.Sprintf("Profile %q has no cancel block, so nothing says how to stop the job. Add a cancel block with its steps and a deadline (a step signal = \"SIGKILL\" at = \"9s\", deadline = \"10s\"), or start from a built-in: extends = \"process\".", r.self.Name)
}

// reserveNote adds, for an escalating step past the deadline in a profile
// that finalises, the latest offset that leaves finalisation its reserve,
// so that the fix does not run straight into "No time left for
// finalisation".
func reserveNote(s *Step, f *Finalize, deadline time.Duration) string {
	if f == nil || !s.asEngine().Escalates() || f.reserve() >= deadline {
		return ""
	}
	return fmt.Sprintf(" Finalisation reserves %s, so this step must come at %s at the latest.", FormatDuration(f.reserve()), FormatDuration(deadline-f.reserve()))
}

// stepAfterDeadline explains a step at or after the deadline; an inherited
// step is fixed in the child, so the detail says how.
func stepAfterDeadline(s *Step, self *Profile, deadline time.Duration) string {
	if s.owner == nil || s.owner == self {
		return fmt.Sprintf("Step %q runs at %s, but the deadline is %s: by then graceful has given up. Move the step before the deadline or raise the deadline.", s.Name, FormatDuration(s.at()), FormatDuration(deadline))
	}
	return fmt.Sprintf("Step %q, inherited from profile %q, runs at %s, but the deadline is %s: by then graceful has given up. Raise the deadline, or in profile %q replace the step (a step %q block, written whole) or remove it (disabled = true).", s.Name, s.owner.Name, FormatDuration(s.at()), FormatDuration(deadline), self.Name, s.Name)
}

// notifications are the messages the kubernetes runner understands.
var notifications = []string{"interrupt"}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// FormatDuration writes d as policies and messages show it:
// time.Duration's String without its trailing zero units ("1m", not
// "1m0s").
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// sortedSteps returns the enabled steps in timeline order (stable).
func (r *resolved) sortedSteps() []*Step {
	steps := append([]*Step(nil), r.steps...)
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].at() < steps[j].at() })
	return steps
}

func (s *Step) asEngine() engine.Step {
	st := engine.Step{
		Name:    s.Name,
		At:      s.at(),
		Kind:    s.Kind,
		Signal:  s.Signal,
		Scope:   s.Target,
		Command: append([]string(nil), s.Command...),
		Notify:  s.Notify,
	}
	if s.Timeout != nil {
		st.Timeout = s.Timeout.Value
	}
	return st
}

// engineProfile converts a valid resolved profile to the engine's model.
func (r *resolved) engineProfile() *engine.Profile {
	ep := &engine.Profile{
		Name:      r.self.Name,
		Runner:    engine.RunnerProcess,
		Triggers:  map[string][]engine.Action{},
		ExitCodes: engine.DefaultExitCodes,
	}
	if r.description != nil {
		ep.Description = r.description.Value
	}
	if r.runner != nil {
		ep.Runner = r.runner.Value
	}
	if r.budget != nil {
		ep.Budget = r.budget.Value
	}
	if r.deadline != nil {
		ep.Deadline = r.deadline.Value
	}
	for _, t := range r.triggers {
		ep.Triggers[t.Signal] = append([]engine.Action(nil), t.Actions...)
	}
	for _, s := range r.sortedSteps() {
		ep.Steps = append(ep.Steps, s.asEngine())
	}
	if f := r.finalize; f != nil {
		ep.Finalize = &engine.Finalize{Command: append([]string(nil), f.Command...)}
		if f.Timeout != nil {
			ep.Finalize.Timeout = f.Timeout.Value
		}
	}
	if r.abandoned != nil {
		ep.ExitCodes.Abandoned = r.abandoned.Value
	}
	if r.timeout != nil {
		ep.ExitCodes.Timeout = r.timeout.Value
	}
	return ep
}
