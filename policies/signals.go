package policies

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/graceful-sh/graceful/engine/supervise"

	"github.com/agext/levenshtein"

	"github.com/graceful-sh/graceful/engine"
)

// signalNames are the Linux signal names a policy may use, in number order:
// the engine's table, so that a policy accepts exactly the signals the
// engine can report.
var signalNames = engine.SignalNames()

var signalSet = func() map[string]bool {
	m := make(map[string]bool, len(signalNames))
	for _, s := range signalNames {
		m[s] = true
	}
	return m
}()

// commonFirst orders signal names for suggestions: on a tie in edit
// distance the signal people usually mean wins (SIGTREM is SIGTERM, not
// SIGTRAP).
var commonFirst = append([]string{"SIGTERM", "SIGINT", "SIGKILL", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGSTOP", "SIGCONT", "SIGWINCH"}, signalNames...)

// signalAliases are Linux's second names for signals; policies use the
// canonical name only, so that one signal has one on block.
var signalAliases = map[string]string{"SIGIOT": "SIGABRT", "SIGPOLL": "SIGIO", "SIGCLD": "SIGCHLD"}

// uncatchable signals cannot be handled, so they can never trigger anything.
var uncatchable = map[string]bool{"SIGKILL": true, "SIGSTOP": true}

// RuntimeReserved reports whether the Go runtime reserves the signal named
// sig ("SIGURG", "SIGPROF") so that graceful cannot catch it faithfully.
// Policies may not trigger on such a signal (a profile may still send it
// to the job). The list is supervise's signal table, the one the command
// line catches signals by.
func RuntimeReserved(sig string) bool { return supervise.Of(sig) == supervise.Reserved }

// SignalSuggestion returns a "did you mean" sentence for an unknown signal
// name, or a generic hint when nothing is close.
func SignalSuggestion(name string) string {
	if n, err := strconv.Atoi(strings.TrimSpace(name)); err == nil && n >= 1 && n <= len(signalNames) {
		return fmt.Sprintf("Signal %d is %q on Linux; write its name.", n, signalNames[n-1])
	}
	up := strings.ToUpper(strings.TrimSpace(name))
	if !strings.HasPrefix(up, "SIG") {
		up = "SIG" + up
	}
	if canon, ok := signalAliases[up]; ok {
		return fmt.Sprintf("%s is another name for %s; write %q.", up, canon, canon)
	}
	if signalSet[up] {
		return fmt.Sprintf("Did you mean %q? Signal names are upper case and start with SIG.", up)
	}
	if s := suggest(up, commonFirst); s != "" {
		return fmt.Sprintf("Did you mean %q?", s)
	}
	return "Use a Linux signal name such as \"SIGTERM\", \"SIGINT\" or \"SIGKILL\"."
}

// suggest returns the candidate closest to given within a small edit
// distance (hcl's own threshold), the earliest on a tie, or "".
func suggest(given string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := levenshtein.Distance(given, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// didYouMean formats suggest's result as a sentence, or "" when nothing is
// close.
func didYouMean(given string, candidates []string) string {
	if s := suggest(given, candidates); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

// synonyms maps words people use for an action or runner to the name the
// language uses, for suggestions where the spelling is too far off.
var synonyms = map[string]string{
	// actions
	"kill": "exit", "abort": "exit", "quit": "exit", "terminate": "cancel",
	"stop": "cancel", "interrupt": "cancel", "wait": "drain", "finish": "drain",
	"graceful": "drain", "pass": "forward", "relay": "forward", "propagate": "forward",
	"none": "ignore", "noop": "ignore", "nothing": "ignore",
	// targets
	"process-group": "group", "pgroup": "group", "pgid": "group", "pg": "group",
	"all": "tree", "descendants": "tree", "children": "tree", "cgroup": "tree", "everything": "tree",
	"pid": "leader", "main": "leader", "parent": "leader", "first": "leader",
	// runners
	"k8s": "kubernetes", "kube": "kubernetes", "pod": "kubernetes",
	"docker": "container", "tini": "container", "entrypoint": "container",
	"local": "process", "shell": "process", "exec": "process",
}

// didYouMeanWord is didYouMean that also knows synonyms among the
// candidates ("k8s" is "kubernetes", "kill" is "exit").
func didYouMeanWord(given string, candidates []string) string {
	if s := didYouMean(given, candidates); s != "" {
		return s
	}
	if w, ok := synonyms[strings.ToLower(strings.TrimSpace(given))]; ok && contains(candidates, w) {
		return fmt.Sprintf(" Did you mean %q?", w)
	}
	return ""
}
