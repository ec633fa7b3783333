package main

import (
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/policies"
)

// Values the shells complete (graceful completion bash|zsh|fish|powershell)
// beyond command and flag names: the policy language's words, so that a
// misspelling never has to be typed.

// explainFormats are explain --format's values.
var explainFormats = []string{"text", "mermaid", "dot"}

// cgroupValues are run --cgroup's and join --cgroup's values.
var cgroupValues = []cobra.Completion{
	cobra.CompletionWithDesc("auto", "a cgroup v2 leaf where the machine allows one, else the subreaper"),
	cobra.CompletionWithDesc("on", "require a cgroup v2 leaf"),
	cobra.CompletionWithDesc("off", "child subreaper and a /proc sweep"),
}

// jobClauses are simulate --job's clauses; those ending in "=" take a
// value.
var jobClauses = []string{"exits-on-term", "exits-after=", "ignores-term", "never", "exits-at=", "code=", "exec-takes=", "exec-fails"}

// registerCompletions registers the value completions of the whole tree.
// Commands are found by name, so that no command's file has to know.
func registerCompletions(root *cobra.Command) {
	policyFiles := func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return []cobra.Completion{"hcl", "json"}, cobra.ShellCompDirectiveFilterFileExt
	}
	for _, c := range root.Commands() {
		register := func(flag string, f cobra.CompletionFunc) {
			if c.Flags().Lookup(flag) != nil {
				_ = c.RegisterFlagCompletionFunc(flag, f) // registered once per tree
			}
		}
		register("profile", completeProfiles)
		register("policy", policyFiles)
		register("cgroup", fixedValues(cgroupValues...))
		switch c.Name() {
		case "explain":
			register("format", fixedValues(explainFormats...))
		case "validate":
			register("format", fixedValues(
				cobra.CompletionWithDesc("text", "diagnostics with source snippets"),
				cobra.CompletionWithDesc("json", "terraform validate -json's format"),
				cobra.CompletionWithDesc("github", "GitHub Actions annotations")))
		case "profiles":
			register("show", completeBuiltins)
		case "simulate":
			register("signal", completeSignalSpec)
			register("job", completeJob)
		}
	}
}

// fixedValues completes one of a fixed set of values.
func fixedValues(values ...cobra.Completion) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// builtinNames lists the built-in profiles.
func builtinNames() []string {
	var names []string
	for _, p := range policies.Builtin() {
		names = append(names, p.Name)
	}
	return names
}

func completeBuiltins(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return builtinNames(), cobra.ShellCompDirectiveNoFileComp
}

// completeProfiles completes --profile with the built-ins and, when
// --policy is on the line already, the profiles that policy defines (even
// one with errors: its valid profiles).
func completeProfiles(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	names := builtinNames()
	if path, _ := cmd.Flags().GetString("policy"); path != "" {
		if files, err := policies.ExpandPaths([]string{path}); err == nil {
			pol, _ := policies.Load(files, policies.Options{})
			names = pol.Names()
		}
	}
	slices.Sort(names)
	return slices.Compact(names), cobra.ShellCompDirectiveNoFileComp
}

// completeSignalSpec completes simulate --signal OFFSET:WHAT: after the
// colon, the signals graceful can catch and "cancel" and "timeout"; before
// it, an offset once it parses.
func completeSignalSpec(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	offset, _, ok := strings.Cut(toComplete, ":")
	if !ok {
		if _, err := time.ParseDuration(toComplete); err == nil {
			return []cobra.Completion{toComplete + ":"}, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
		}
		return []cobra.Completion{"0s:", "1s:"}, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, s := range append(engine.SignalNames(), "cancel", "timeout") {
		if s != "SIGKILL" && s != "SIGSTOP" {
			out = append(out, offset+":"+s)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeJob completes the clause being typed after the last comma of
// simulate --job; a clause that takes a value is completed up to its "=".
func completeJob(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	done := ""
	if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
		done = toComplete[:i+1]
	}
	var out []cobra.Completion
	for _, c := range jobClauses {
		out = append(out, done+c)
	}
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// completeGoStyle is the ValidArgsFunction of the commands that parse
// their own flags (goStyleFlags): cobra completes flag names for them but
// leaves flag values to the command, so this finds the flag being given a
// value (-format <TAB>, --format=<TAB>) and calls its completion. Other
// words are file names.
func completeGoStyle(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	name, prefix, value := "", "", toComplete
	if f, v, ok := strings.Cut(toComplete, "="); ok && strings.HasPrefix(f, "-") {
		name, prefix, value = strings.TrimLeft(f, "-"), f+"=", v
	} else if n := len(args); n > 0 && strings.HasPrefix(args[n-1], "-") && !strings.Contains(args[n-1], "=") {
		name = strings.TrimLeft(args[n-1], "-")
	}
	if name == "" {
		return nil, cobra.ShellCompDirectiveDefault
	}
	f := cmd.Flags().Lookup(name)
	if f == nil || isBoolFlag(f) {
		return nil, cobra.ShellCompDirectiveDefault
	}
	complete, ok := cmd.GetFlagCompletionFunc(name)
	if !ok {
		return nil, cobra.ShellCompDirectiveDefault
	}
	comps, dir := complete(cmd, args, value)
	if prefix != "" {
		for i := range comps {
			comps[i] = prefix + comps[i]
		}
	}
	return comps, dir
}

func isBoolFlag(f *pflag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// completeGoStyleNoArgs is completeGoStyle for a command that takes no
// arguments: a word that is no flag value completes to nothing, not to
// file names.
func completeGoStyleNoArgs(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	comps, dir := completeGoStyle(cmd, args, toComplete)
	if len(comps) == 0 && dir == cobra.ShellCompDirectiveDefault {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return comps, dir
}
