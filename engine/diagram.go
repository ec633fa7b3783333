package engine

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Diagrams draw the machine New builds for a profile (Transitions), so what
// explain shows is what runs. Edges between the same two states are merged;
// step edges carry the step's offset and action.

type edge struct {
	from, to string
	labels   []string
}

func edges(p *Profile) []edge {
	steps := map[string]int{}
	for i := range p.Steps {
		steps[StepState(p, i)] = i
	}
	var out []edge
	index := map[[2]string]int{}
	for _, t := range Transitions(p) {
		label := t.Event
		if i, ok := steps[t.Event]; ok {
			label = "+" + FormatOffset(p.Steps[i].At) + " " + StepSummary(p.Steps[i])
		}
		k := [2]string{t.From, t.To}
		if j, ok := index[k]; ok {
			out[j].labels = append(out[j].labels, label)
			continue
		}
		index[k] = len(out)
		out = append(out, edge{t.From, t.To, []string{label}})
	}
	return out
}

// StepSummary describes what a step does: "signal SIGKILL → tree",
// "notify interrupt", "run ./hook.sh", "abandon".
func StepSummary(s Step) string {
	switch s.Kind {
	case StepSignal:
		return "signal " + s.Signal + " → " + string(s.Scope)
	case StepNotify:
		return "notify " + s.Notify
	case StepCommand:
		return "run " + strings.Join(s.Command, " ")
	case StepAbandon:
		return "abandon"
	}
	return string(s.Kind)
}

// FormatOffset prints an offset the way a policy usually writes it: in
// seconds ("0s", "7.5s", "115s"), or as Go prints it below a second
// ("250ms").
func FormatOffset(d time.Duration) string {
	if d != 0 && d < time.Second && d > -time.Second {
		return d.String()
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// Mermaid renders p's machine as a Mermaid state diagram.
func Mermaid(p *Profile) string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	ids := map[string]string{}
	id := func(state string) string {
		if v, ok := ids[state]; ok {
			return v
		}
		v := strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return '_'
		}, state)
		ids[state] = v
		if v != state {
			fmt.Fprintf(&b, "    state %q as %s\n", state, v)
		}
		return v
	}
	es := edges(p)
	for _, e := range es { // declare renamed states first
		id(e.from)
		id(e.to)
	}
	fmt.Fprintf(&b, "    [*] --> %s\n", id(StateRunning))
	for _, e := range es {
		fmt.Fprintf(&b, "    %s --> %s: %s\n", id(e.from), id(e.to), strings.ReplaceAll(strings.Join(e.labels, ", "), ":", "#58;"))
	}
	fmt.Fprintf(&b, "    %s --> [*]\n", id(StateDone))
	return b.String()
}

// Graphviz renders p's machine in the DOT language.
func Graphviz(p *Profile) string {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %q {\n    rankdir=LR;\n    node [shape=box, style=rounded];\n", p.Name)
	for _, e := range edges(p) {
		fmt.Fprintf(&b, "    %q -> %q [label=%q];\n", e.from, e.to, strings.Join(e.labels, "\n"))
	}
	fmt.Fprintf(&b, "    %q [shape=doublecircle];\n}\n", StateDone)
	return b.String()
}
