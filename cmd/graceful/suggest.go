package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/policies"
)

// closest returns the candidate nearest to given within the edit distance
// the policy diagnostics use (under 3), the earliest on a tie, or "".
func closest(given string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := levenshtein.Distance(given, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// suggestWord returns `; did you mean "x"?` for the candidate closest to
// given, or "" when none is close.
func suggestWord(given string, candidates []string) string {
	if s := closest(given, candidates); s != "" {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	return ""
}

// profileSynonyms are words people use for a built-in profile.
var profileSynonyms = map[string]string{
	"k8s": "kubernetes", "kube": "kubernetes", "pod": "kubernetes",
	"docker": "container", "tini": "container", "entrypoint": "container",
	"local": "process", "default": "process",
}

// suggestProfile returns `; did you mean "process"?` for a profile name
// close to one of names, or a synonym of one ("k8s"), else "".
func suggestProfile(given string, names []string) string {
	if given == "" {
		return ""
	}
	if s := suggestWord(given, names); s != "" {
		return s
	}
	if w, ok := profileSynonyms[strings.ToLower(given)]; ok && slices.Contains(names, w) {
		return fmt.Sprintf("; did you mean %q?", w)
	}
	return ""
}

// findForRun is policies.Find for run and join, with a did-you-mean for a
// misspelt profile name.
func findForRun(policy, name string) (*engine.Profile, error) {
	prof, err := policies.Find(policy, name)
	if err == nil || name == "" {
		return prof, err
	}
	var le *policies.LoadError
	if errors.As(err, &le) {
		return nil, err // the policy itself is broken: its diagnostics say why
	}
	names := builtinNames()
	if policy != "" {
		if files, ferr := policies.ExpandPaths([]string{policy}); ferr == nil {
			if pol, diags := policies.Load(files, policies.Options{}); !diags.HasErrors() {
				names = append(names, pol.Names()...)
			}
		}
	}
	return nil, fmt.Errorf("%w%s", err, suggestProfile(name, names))
}
