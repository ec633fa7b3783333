package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/policies"
)

// newProfilesCmd builds `graceful profiles [--policy FILE|DIR]`.
func newProfilesCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profiles",
		Short: "List the built-in profiles and those of a policy file",
		Long: `Profiles lists the built-in profiles and, with --policy, the profiles of a
policy file or directory: name, runner, deadline, budget, where it comes
from and its description. --show NAME prints the HCL source of a built-in.`,
		Example: `  graceful profiles
  graceful profiles -json --policy examples/policies
  graceful profiles --show container`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// goStyleFlags parses the flags itself, so cobra.NoArgs
			// would see them.
			if args := cmd.Flags().Args(); len(args) > 0 {
				return withStatus(exitUsage, fmt.Errorf("profiles takes no arguments (got %q); name a policy with --policy", args[0]))
			}
			return runProfiles(cmd, v)
		},
	}
	cmd.Flags().String("policy", "", "policy file or directory whose profiles to list too")
	cmd.Flags().String("show", "", "print the source of the named built-in profile")
	cmd.Flags().Bool("json", false, "print the decoded profiles as JSON (also -json)")
	goStyleFlags(cmd, v)
	cmd.ValidArgsFunction = completeGoStyleNoArgs
	return cmd
}

func runProfiles(cmd *cobra.Command, v *viper.Viper) error {
	out := cmd.OutOrStdout()
	if name := v.GetString("show"); name != "" {
		src, ok := policies.BuiltinSource(name)
		if !ok {
			have := builtinNames()
			return withStatus(exitUsage, fmt.Errorf("no built-in profile named %s (have: %s)%s", name, strings.Join(have, ", "), suggestProfile(name, have)))
		}
		_, err := out.Write(src)
		return err
	}

	type row struct {
		source string
		p      *engine.Profile
	}
	var rows []row
	for _, p := range policies.Builtin() {
		rows = append(rows, row{"built-in", p})
	}
	if path := v.GetString("policy"); path != "" {
		files, err := policies.ExpandPaths([]string{path})
		if err != nil {
			return withStatus(exitUsage, err)
		}
		pol, diags := policies.Load(files, policies.Options{})
		if diags.HasErrors() {
			return policyErrors(cmd, pol, path, diags)
		}
		for _, p := range pol.Profiles() {
			for i := range rows {
				if rows[i].source == "built-in" && rows[i].p.Name == p.Name {
					rows[i].source = "built-in, replaced"
				}
			}
			rows = append(rows, row{pol.Source(p.Name), p})
		}
	}

	if v.GetBool("json") {
		js := make([]jsonProfile, 0, len(rows))
		for _, r := range rows {
			js = append(js, profileJSON(r.source, r.p))
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(js)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tRUNNER\tDEADLINE\tBUDGET\tSOURCE\tDESCRIPTION")
	for _, r := range rows {
		budget := "-"
		if r.p.Budget > 0 {
			budget = policies.FormatDuration(r.p.Budget)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.p.Name, r.p.Runner, policies.FormatDuration(r.p.Deadline), budget, r.source, r.p.Description)
	}
	return tw.Flush()
}

// jsonProfile is a profile as profiles --json prints it: the policy
// language's names and Go duration strings ("9s"), not the engine's Go
// field names and nanoseconds.
type jsonProfile struct {
	Name        string              `json:"name"`
	Source      string              `json:"source"`
	Description string              `json:"description,omitempty"`
	Runner      string              `json:"runner"`
	Budget      string              `json:"budget,omitempty"`
	On          map[string][]string `json:"on"`
	Steps       []jsonStep          `json:"steps"`
	Deadline    string              `json:"deadline"`
	Finalize    *jsonFinalize       `json:"finalize,omitempty"`
	ExitCodes   jsonExitCodes       `json:"exit_codes"`
}

type jsonStep struct {
	Name    string   `json:"name"`
	At      string   `json:"at"`
	Signal  string   `json:"signal,omitempty"`
	Target  string   `json:"target,omitempty"`
	Command []string `json:"command,omitempty"`
	Timeout string   `json:"timeout,omitempty"`
	Notify  string   `json:"notify,omitempty"`
	Abandon bool     `json:"abandon,omitempty"`
}

type jsonFinalize struct {
	Command []string `json:"command"`
	Timeout string   `json:"timeout,omitempty"`
}

type jsonExitCodes struct {
	Abandoned int `json:"abandoned"`
	Timeout   int `json:"timeout"`
}

func profileJSON(source string, p *engine.Profile) jsonProfile {
	dur := func(d time.Duration) string {
		if d == 0 {
			return ""
		}
		return policies.FormatDuration(d)
	}
	j := jsonProfile{
		Name: p.Name, Source: source, Description: p.Description, Runner: p.Runner,
		Budget: dur(p.Budget), On: map[string][]string{}, Steps: []jsonStep{},
		Deadline:  policies.FormatDuration(p.Deadline),
		ExitCodes: jsonExitCodes{Abandoned: p.ExitCodes.Abandoned, Timeout: p.ExitCodes.Timeout},
	}
	for sig, acts := range p.Triggers {
		for _, a := range acts {
			j.On[sig] = append(j.On[sig], string(a))
		}
	}
	for _, s := range p.Steps {
		js := jsonStep{Name: s.Name, At: policies.FormatDuration(s.At), Command: s.Command, Timeout: dur(s.Timeout), Notify: s.Notify}
		switch s.Kind {
		case engine.StepSignal:
			js.Signal, js.Target = s.Signal, string(s.Scope)
		case engine.StepAbandon:
			js.Abandon = true
		}
		j.Steps = append(j.Steps, js)
	}
	if f := p.Finalize; f != nil {
		j.Finalize = &jsonFinalize{Command: f.Command, Timeout: dur(f.Timeout)}
	}
	return j
}
