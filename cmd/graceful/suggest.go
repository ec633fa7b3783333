package main

import (
	"fmt"

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
