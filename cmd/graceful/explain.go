package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/policies"
)

func newExplainCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "explain [--profile NAME] [--policy FILE] [--format text|mermaid|dot]",
		Short: "Show a profile's cancellation timeline and state machine",
		Long: `Explain prints what a profile does: what each incoming signal means, the
cancellation timeline from t0 (offset, step, action, target), the deadline
and finalisation. --format mermaid or dot draws the state machine the engine
builds from the profile instead.

Without --profile: with no --policy, the built-in "process"; with --policy,
the only profile the policy defines when it defines exactly one, else
"process" (the policy's own, if it defines one).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			prof, err := findProfile(cmd, v)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch f := strings.ToLower(strings.TrimSpace(v.GetString("format"))); f {
			case "", "text":
				explainText(out, prof)
			case "mermaid":
				io.WriteString(out, engine.Mermaid(prof))
			case "dot", "graphviz":
				io.WriteString(out, engine.Graphviz(prof))
			default:
				hint := suggestWord(f, []string{"text", "mermaid", "dot", "graphviz"})
				return withStatus(exitUsage, fmt.Errorf("explain: unknown --format %q (want text, mermaid or dot)%s", v.GetString("format"), hint))
			}
			return nil
		},
	}
	cmd.Flags().String("profile", "", `profile to explain (default: the only profile of --policy if it defines one, else "process")`)
	cmd.Flags().String("policy", "", "policy file or directory (default: built-in profiles only)")
	cmd.Flags().String("format", "text", "output: text, mermaid or dot")
	return cmd
}

// findProfile returns the profile --profile names in the --policy files
// (or among the built-ins), for explain and simulate. A policy with errors
// gets its diagnostics on stderr, rendered as validate renders them, and
// exit status 1 as in validate and profiles; a missing path or profile is
// a usage error.
func findProfile(cmd *cobra.Command, v *viper.Viper) (*engine.Profile, error) {
	path, name := v.GetString("policy"), v.GetString("profile")
	if path == "" {
		prof, err := policies.Find("", name)
		if err != nil {
			return nil, withStatus(exitUsage, fmt.Errorf("%w%s", err, suggestProfile(name, builtinNames())))
		}
		return prof, nil
	}
	files, err := policies.ExpandPaths([]string{path})
	if err != nil {
		return nil, withStatus(exitUsage, err)
	}
	pol, diags := policies.Load(files, policies.Options{})
	if diags.HasErrors() {
		return nil, policyErrors(cmd, pol, path, diags)
	}
	// Warnings do not stop anything, but whoever explains or simulates a
	// policy is the one who should see them.
	if len(diags) > 0 {
		errw := cmd.ErrOrStderr()
		width, color := terminalStyle(errw)
		fmt.Fprint(errw, pol.RenderDiagnostics(diags, width, color))
	}
	prof, err := pol.Select(name)
	if err != nil {
		return nil, withStatus(exitUsage, fmt.Errorf("%w%s", err, suggestProfile(name, pol.Names())))
	}
	return prof, nil
}

// notLoaded ends the diagnostics of a policy that does not load with the
// one line that says so.
func notLoaded(w io.Writer, path string, errors int) {
	fmt.Fprintf(w, "graceful: the policy %s does not load (%s)\n", path, plural(errors, "error"))
}

// policyErrors prints the diagnostics of a policy that does not load to
// stderr, as validate renders them, and returns exit status 1.
func policyErrors(cmd *cobra.Command, pol *policies.Policy, path string, diags hcl.Diagnostics) error {
	errw := cmd.ErrOrStderr()
	width, color := terminalStyle(errw)
	fmt.Fprint(errw, pol.RenderDiagnostics(diags, width, color))
	n := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	notLoaded(errw, path, n)
	return silentStatus(exitFindings)
}

// explainText writes the readable timeline of p.
func explainText(w io.Writer, p *engine.Profile) {
	fmt.Fprintf(w, "profile %q", p.Name)
	if p.Runner != "" {
		fmt.Fprintf(w, " (runner %s)", p.Runner)
	}
	fmt.Fprintln(w)
	if p.Description != "" {
		fmt.Fprintf(w, "  %s\n", p.Description)
	}

	fmt.Fprintln(w, "\nIncoming signals (n-th delivery: action; the last repeats):")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	sigs := make([]string, 0, len(p.Triggers))
	for s := range p.Triggers {
		sigs = append(sigs, s)
	}
	slices.Sort(sigs)
	if len(sigs) == 0 {
		fmt.Fprintln(tw, "  (none: only an API cancel or --timeout starts cancellation)")
	}
	for _, s := range sigs {
		fmt.Fprintf(tw, "  %s\t%s\n", s, describeTrigger(p.Triggers[s]))
	}
	tw.Flush()

	fmt.Fprintln(w, "\nCancellation timeline (offsets from t0, when cancellation starts):")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  OFFSET\tSTEP\tACTION\tTARGET")
	for _, s := range p.Steps {
		action, target := stepColumns(s)
		fmt.Fprintf(tw, "  +%s\t%s\t%s\t%s\n", engine.FormatOffset(s.At), s.Name, action, target)
	}
	if p.Deadline > 0 {
		fmt.Fprintf(tw, "  +%s\t(deadline)\tabandon, exit\teverything still running\n", engine.FormatOffset(p.Deadline))
	}
	tw.Flush()
	if !escalates(p) {
		fmt.Fprintln(w, "  note: no step kills or abandons the job; only the deadline ends it")
	}

	fmt.Fprintln(w, "\nFinalisation:")
	if f := p.Finalize; f != nil && len(f.Command) > 0 {
		when := "once the job has stopped"
		for _, st := range p.Steps {
			if st.Kind == engine.StepAbandon {
				when = "once the job has stopped or an abandon step has given up on it"
				break
			}
		}
		fmt.Fprintf(w, "  runs %s %s\n", strings.Join(f.Command, " "), when)
		if p.Deadline > 0 {
			fmt.Fprintf(w, "  after a cancellation: cut off at the deadline (+%s)\n", engine.FormatOffset(p.Deadline))
		}
		if f.Timeout > 0 {
			fmt.Fprintf(w, "  otherwise: cut off after %s\n", engine.FormatOffset(f.Timeout))
		} else {
			fmt.Fprintln(w, "  otherwise: no time limit")
		}
	} else {
		fmt.Fprintln(w, "  none")
	}

	codes := p.ExitCodes
	if codes.Abandoned == 0 {
		codes.Abandoned = engine.DefaultExitCodes.Abandoned
	}
	if codes.Timeout == 0 {
		codes.Timeout = engine.DefaultExitCodes.Timeout
	}
	timeout := strconv.Itoa(codes.Timeout)
	if codes.Timeout == -1 {
		timeout = "the job's own status"
	}
	fmt.Fprintln(w, "\nExit status:")
	fmt.Fprintln(w, "  the job's own status; 128+N when it dies of signal N (SIGQUIT: 131)")
	fmt.Fprintf(w, "  abandoned (deadline, abandon step, exit trigger): %d\n", codes.Abandoned)
	fmt.Fprintf(w, "  stopped after --timeout: %s\n", timeout)
	if p.Budget > 0 {
		fmt.Fprintf(w, "\nBudget: %s (the surrounding system's grace period)\n", engine.FormatOffset(p.Budget))
	}
}

func describeTrigger(acts []engine.Action) string {
	if len(acts) == 1 {
		return string(acts[0])
	}
	parts := make([]string, len(acts))
	for i, a := range acts {
		n := strconv.Itoa(i + 1)
		if i == len(acts)-1 {
			n += "+"
		}
		parts[i] = n + ": " + string(a)
	}
	return strings.Join(parts, ", ")
}

func stepColumns(s engine.Step) (action, target string) {
	switch s.Kind {
	case engine.StepSignal:
		return "signal " + s.Signal, string(s.Scope)
	case engine.StepNotify:
		return "notify " + s.Notify, "job"
	case engine.StepCommand:
		a := "run " + strings.Join(s.Command, " ")
		if s.Timeout > 0 {
			a += " (timeout " + engine.FormatOffset(s.Timeout) + ")"
		}
		return a, "command"
	case engine.StepAbandon:
		return "abandon", "job"
	}
	return string(s.Kind), ""
}

func escalates(p *engine.Profile) bool {
	for _, s := range p.Steps {
		if s.Escalates() {
			return true
		}
	}
	return false
}
