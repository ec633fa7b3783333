package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"golang.org/x/term"

	"github.com/graceful-sh/graceful/policies"
)

// newValidateCmd builds `graceful validate [FILES|DIRS...]`.
func newValidateCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate [FILES|DIRS...]",
		Short: "Check policy files and report problems with their source",
		Long: `Validate loads the given policy files and directories (*.hcl, *.hcl.json)
together with the built-in profiles and checks every profile: names of
signals and actions, durations, the order of steps, escalation, time for
finalisation, the deadline against the budget, extends chains.

With no arguments it checks the built-in profiles, which is useful with
--budget or --pod. Exit status: 0 when there are no errors (warnings are
reported but allowed), 1 when there are, 2 on a usage error.

--format json (or -json) prints one JSON object in the shape of terraform
validate -json (format_version "1.0"); --format github prints GitHub
Actions workflow commands that annotate the files of a pull request.`,
		Example: `  graceful validate examples/policies
  graceful validate --pod deploy.yaml my-policy.hcl
  graceful validate -json policy.hcl.json
  graceful validate --format github policies/`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runValidate(cmd, v, cmd.Flags().Args())
		},
	}
	fs := cmd.Flags()
	fs.Bool("json", false, "print diagnostics as JSON in terraform validate -json's format (also -json; the same as --format json)")
	fs.String("format", "text", "output: text, json or github (workflow-command annotations)")
	fs.String("budget", "", "fail profiles whose deadline exceeds this duration, e.g. 60s")
	fs.String("pod", "", "fail profiles whose deadline exceeds the terminationGracePeriodSeconds of this Kubernetes manifest")
	goStyleFlags(cmd, v)
	return cmd
}

// goStyleFlags lets a command accept Go-style single-dash long flags
// (-json, -check) besides --json, as gofmt and terraform users type them.
// pflag would read -json as -j -s -o -n, so the command parses its own
// flags after rewriting single-dash long names it knows.
func goStyleFlags(cmd *cobra.Command, v *viper.Viper) {
	cmd.DisableFlagParsing = true
	cmd.ValidArgsFunction = completeGoStyle
	cmd.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		// ParseFlags does nothing while DisableFlagParsing is set; lift it
		// for the call so cobra still merges the persistent flags.
		cmd.DisableFlagParsing = false
		err := cmd.ParseFlags(normalizeFlags(cmd.Flags(), args))
		cmd.DisableFlagParsing = true
		if err != nil {
			return withStatus(exitUsage, fmt.Errorf("%w%s\nRun 'graceful %s --help' for usage", err, flagSuggestion(cmd.Flags(), err), cmd.Name()))
		}
		if help, _ := cmd.Flags().GetBool("help"); help {
			_ = cmd.Help()
			return silentStatus(exitOK)
		}
		return loadConfig(v, cmd)
	}
}

// flagSuggestion returns "; did you mean --json?" for pflag's error about
// an unknown long flag close to a known one, else "".
func flagSuggestion(fs *pflag.FlagSet, err error) string {
	given, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return ""
	}
	best, bestDist := "", 3
	fs.VisitAll(func(f *pflag.Flag) {
		if d := levenshtein.Distance(given, f.Name, nil); d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	if best == "" {
		return ""
	}
	return "; did you mean --" + best + "?"
}

// normalizeFlags rewrites -name and -name=value to --name... for every long
// flag name the set knows, up to a "--" terminator.
func normalizeFlags(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			// A known long name, or a misspelt one (-jsno) that is no
			// cluster of shorthands: read it as --name, so that pflag
			// names the whole flag rather than "shorthand 'j'".
			if len(name) > 1 && (fs.Lookup(name) != nil || fs.ShorthandLookup(name[:1]) == nil) {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

// budgetOptions reads --budget and --pod; for --pod it also returns the
// pods' own findings.
func budgetOptions(v *viper.Viper) (policies.Options, hcl.Diagnostics, error) {
	var opts policies.Options
	budget, pod := v.GetString("budget"), v.GetString("pod")
	switch {
	case budget != "" && pod != "":
		return opts, nil, errors.New("give --budget or --pod, not both")
	case budget != "":
		d, err := time.ParseDuration(budget)
		if err != nil || d < 0 {
			return opts, nil, fmt.Errorf("--budget %q: want a non-negative Go duration such as 60s", budget)
		}
		opts.CheckBudget, opts.Budget, opts.BudgetSource = true, d, "--budget "+policies.FormatDuration(d)
	case pod != "":
		pods, err := policies.ReadPods(pod)
		if err != nil {
			return opts, nil, fmt.Errorf("--pod: %w", err)
		}
		// The shortest grace period among the pods bounds every profile
		// the pods' graceful containers run (every profile when none is
		// named: a manifest without graceful in it).
		short := pods[0]
		for _, p := range pods[1:] {
			if p.Grace < short.Grace {
				short = p
			}
		}
		src := fmt.Sprintf("terminationGracePeriodSeconds %s of %s", policies.FormatDuration(short.Grace), pod)
		if !short.GraceSet {
			src = fmt.Sprintf("the grace period of %s: it sets no terminationGracePeriodSeconds, so Kubernetes gives %s", pod, policies.FormatDuration(short.Grace))
		}
		opts.CheckBudget, opts.Budget, opts.BudgetSource = true, short.Grace, src
		opts.BudgetProfiles = policies.PodProfiles(pods)
		return opts, policies.CheckPods(pod, pods), nil
	}
	return opts, nil, nil
}

func runValidate(cmd *cobra.Command, v *viper.Viper, args []string) error {
	format, err := validateFormat(cmd, v)
	if err != nil {
		return withStatus(exitUsage, err)
	}
	opts, podDiags, err := budgetOptions(v)
	if err != nil {
		return withStatus(exitUsage, err)
	}
	files, err := policies.ExpandPaths(args)
	if err != nil {
		return withStatus(exitUsage, err)
	}
	pol, diags := policies.Load(files, opts)
	diags = append(diags, podDiags...)

	out := cmd.OutOrStdout()
	switch format {
	case "json":
		if err := writeDiagnosticsJSON(out, pol, files, diags); err != nil {
			return withStatus(exitInternal, err)
		}
	case "github":
		writeDiagnosticsGitHub(out, diags)
		fmt.Fprintln(out, validateSummary(pol, files, diags))
	default:
		width, color := terminalStyle(out)
		fmt.Fprint(out, pol.RenderDiagnostics(diags, width, color))
		fmt.Fprintln(out, validateSummary(pol, files, diags))
	}
	if diags.HasErrors() {
		return silentStatus(exitFindings)
	}
	return nil
}

// validateFormat reads --format and -json: -json is --format json, and
// naming another format beside it is a usage error.
func validateFormat(cmd *cobra.Command, v *viper.Viper) (string, error) {
	format := strings.ToLower(strings.TrimSpace(v.GetString("format")))
	if !slices.Contains(validateFormats, format) {
		return "", fmt.Errorf("unknown --format %q (want text, json or github)%s", v.GetString("format"), suggestWord(format, validateFormats))
	}
	if v.GetBool("json") {
		if cmd.Flags().Changed("format") && format != "json" {
			return "", fmt.Errorf("-json and --format %s: give one", format)
		}
		format = "json"
	}
	return format, nil
}

func validateSummary(pol *policies.Policy, files []string, diags hcl.Diagnostics) string {
	var nerr, nwarn int
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			nerr++
		} else {
			nwarn++
		}
	}
	what := fmt.Sprintf("%s in %s", plural(len(pol.Profiles()), "valid profile"), plural(len(files), "file"))
	if len(files) == 0 {
		what = plural(len(pol.Profiles()), "valid built-in profile")
	}
	if nerr == 0 && nwarn == 0 {
		return "ok: " + what
	}
	return fmt.Sprintf("%s, %s; %s", plural(nerr, "error"), plural(nwarn, "warning"), what)
}

func plural(n int, s string) string {
	if n == 1 {
		return "1 " + s
	}
	return fmt.Sprintf("%d %ss", n, s)
}

// terminalStyle returns the wrapping width and colour use for diagnostics
// written to w: the terminal's width and colour when w is a terminal (and
// colour is not turned off: colorWanted), else no wrapping and no colour.
func terminalStyle(w io.Writer) (uint, bool) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil || width < 40 {
		width = 0
	}
	return uint(width), colorWanted(os.Getenv)
}

// colorWanted reports whether the environment allows colour on a
// terminal: not when NO_COLOR is set to anything (no-color.org), nor when
// TERM is "dumb", which terminals without escape sequences (Emacs's shell,
// some CI logs) set, as git and ls honour it.
func colorWanted(getenv func(string) string) bool {
	return getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}
