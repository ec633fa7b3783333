package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
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
