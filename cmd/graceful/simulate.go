package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/sim"
	"github.com/graceful-sh/graceful/policies"
)

func newSimulateCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "simulate [--profile NAME] [--policy FILE] [--job BEHAVIOUR] [--signal OFFSET:SIGNAL ...]",
		Short: "Run a profile against a simulated job on a virtual clock",
		Long: `Simulate runs the real engine for a profile against a simulated job, on a
virtual clock, and prints the event timeline at once: the way to check a
policy edit without running anything.

--job describes the job, as comma-separated clauses:
  exits-on-term     dies of the first signal it gets (the default)
  exits-after=DUR   handles the first signal or notification, exits DUR later
  ignores-term      ignores every signal but SIGKILL (never: the same)
  exits-at=DUR      exits on its own DUR after it started
  code=N            the status of its own exits
  exec-takes=DUR    how long command steps and the finalisation take
  exec-fails        they fail

--signal OFFSET:WHAT (repeatable) delivers a signal to graceful OFFSET after
the start; WHAT may also be "cancel" (an API cancel) or "timeout" (as
run --timeout). Without --signal, cancellation starts at 0s ("0s:cancel").

Times with a "+" are offsets from t0, when cancellation started; the others
are from the start of the run.

Without --profile: with no --policy, the built-in "process"; with --policy,
the only profile the policy defines when it defines exactly one, else
"process" (the policy's own, if it defines one).`,
		Example: `  graceful simulate --job ignores-term
  graceful simulate --job exits-after=2s --signal 0s:SIGINT --signal 1.5s:SIGINT
  graceful simulate --policy examples/policies/kubernetes.hcl --profile kubernetes-ci --job never,exec-takes=40s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return simulate(cmd, v)
		},
	}
	cmd.Flags().String("profile", "", `profile to simulate (default: the only profile of --policy if it defines one, else "process")`)
	cmd.Flags().String("policy", "", "policy file or directory (default: built-in profiles only)")
	cmd.Flags().String("job", "exits-on-term", "the simulated job's behaviour (see above)")
	cmd.Flags().StringArray("signal", nil, "OFFSET:SIGNAL delivered to graceful, e.g. 1.5s:SIGINT (repeatable)")
	cmd.Flags().String("events", "", `also write the events as JSON lines to FILE ("-": stdout, instead of the text)`)
	return cmd
}

func simulate(cmd *cobra.Command, v *viper.Viper) error {
	prof, err := findProfile(cmd, v)
	if err != nil {
		return err
	}
	job, err := sim.ParseBehaviour(v.GetString("job"))
	if err != nil {
		return withStatus(exitUsage, fmt.Errorf("%w%s", err, suggestJobClause(v.GetString("job"))))
	}
	specs, _ := cmd.Flags().GetStringArray("signal")
	var inputs []sim.Input
	for _, s := range specs {
		in, err := sim.ParseInput(s)
		var unknown *sim.UnknownSignalError
		if errors.As(err, &unknown) {
			// The policy language's hint: "Did you mean "SIGTERM"?"
			return withStatus(exitUsage, fmt.Errorf("%w. %s", err, policies.SignalSuggestion(unknown.Name)))
		}
		if err != nil {
			return withStatus(exitUsage, err)
		}
		if in.Signal == "SIGKILL" || in.Signal == "SIGSTOP" {
			// The kernel acts on these itself: graceful would die (or
			// stop) without running any policy, so there is nothing to
			// simulate.
			return withStatus(exitUsage, fmt.Errorf("signal %q: %s cannot be caught, so graceful would be killed or stopped without running the policy; simulate SIGTERM or SIGINT", s, in.Signal))
		}
		inputs = append(inputs, in)
	}
	if len(inputs) == 0 {
		inputs = []sim.Input{{Cancel: "api"}}
	}

	out := cmd.OutOrStdout()
	var sinks []engine.Sink
	text := true
	switch name := v.GetString("events"); name {
	case "":
	case "-":
		sinks = append(sinks, engine.NewJSONSink(out))
		text = false
	default:
		f, err := os.Create(name)
		if err != nil {
			return withStatus(exitUsage, err)
		}
		defer f.Close()
		sinks = append(sinks, engine.NewJSONSink(f))
	}
	if text {
		sinks = append(sinks, engine.NewTextSink(out))
	}
	// The last event tells whether the run was cancelled and how long it
	// took from the start: Result.Elapsed alone counts from t0 after a
	// cancellation, and from the start otherwise.
	var last engine.Event
	sinks = append(sinks, engine.SinkFunc(func(ev engine.Event) { last = ev }))
	res, _, err := sim.Run(cmd.Context(), prof, job, inputs, sinks...)
	if err != nil {
		return withStatus(exitUsage, err)
	}
	if text {
		summary(out, res, last)
	}
	return nil
}

// summary writes the result line. Like the event lines, a time with "+" is
// an offset from t0; after a cancellation both are given.
func summary(w io.Writer, r engine.Result, last engine.Event) {
	fmt.Fprintf(w, "\noutcome %s, exit status %d", r.Outcome, r.Status)
	if r.Reason != "" {
		fmt.Fprintf(w, " (%s)", r.Reason)
	}
	switch {
	case last.Cancelled && last.Since != last.Elapsed:
		fmt.Fprintf(w, ", at +%s (%s from the start)", engine.FormatOffset(last.Since), engine.FormatOffset(last.Elapsed))
	case last.Cancelled:
		fmt.Fprintf(w, ", at +%s", engine.FormatOffset(last.Since))
	default:
		fmt.Fprintf(w, ", after %s", engine.FormatOffset(last.Elapsed))
	}
	if r.FinalizeErr != nil {
		msg := r.FinalizeErr.Error()
		if !strings.HasPrefix(msg, "finalisation") {
			msg = "finalisation: " + msg
		}
		fmt.Fprintf(w, "; %s", msg)
	}
	fmt.Fprintln(w)
}

// suggestJobClause returns `; did you mean "exits-after"?` for the first
// clause of a --job description that is no clause, when one is close.
func suggestJobClause(spec string) string {
	keys := make([]string, len(jobClauses))
	for i, c := range jobClauses {
		keys[i] = strings.TrimSuffix(c, "=")
	}
	for _, c := range strings.Split(spec, ",") {
		key, _, _ := strings.Cut(strings.TrimSpace(c), "=")
		if !slices.Contains(keys, key) {
			return suggestWord(key, keys)
		}
	}
	return ""
}
