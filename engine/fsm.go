package engine

import (
	"strconv"

	"github.com/looplab/fsm"
)

// This file holds the machine's shape: the states and events every machine
// has, and the table of transitions derived from a Profile. It is all the
// engine tells looplab/fsm; the decisions about when to fire an event are
// in timeline.go.

// States every machine has. Each step adds a state named StepState(p, i)
// between StateCancelling and the end.
const (
	StateRunning    = "running"
	StateDraining   = "draining"
	StateCancelling = "cancelling"
	StateFinalizing = "finalizing"
	StateDone       = "done"
)

// Machine events besides the one per step (named like the step's state).
const (
	EventDrain      = "drain"       // a drain trigger
	EventCancel     = "cancel"      // a cancel trigger or Engine.Cancel: t0
	EventJobStopped = "job-stopped" // the job exited, died or failed to start
	EventAbandoned  = "abandoned"   // an abandon step, or the target lost the job
	EventExit       = "exit"        // an exit trigger, or Run's context ended
	EventDeadline   = "deadline"    // t0 + Profile.Deadline
	EventFinalized  = "finalized"   // finalisation finished or hit its timeout
)

// StepState is the name of the state entered when step i of p runs:
// "step:" and the step's name ("step:#3" when the name is empty or taken).
func StepState(p *Profile, i int) string {
	name := p.Steps[i].Name
	if name != "" {
		for j := 0; j < i; j++ {
			if p.Steps[j].Name == name {
				name = ""
				break
			}
		}
	}
	if name == "" {
		name = "#" + strconv.Itoa(i+1)
	}
	return "step:" + name
}

// Transition is one edge of the machine built from a profile.
type Transition struct {
	Event    string
	From, To string
}

// Transitions lists the edges of the machine the engine builds for p, in a
// stable order. explain draws its diagrams from it, so the diagram is the
// machine that runs.
func Transitions(p *Profile) []Transition {
	var out []Transition
	for _, d := range machineEvents(p, stepStates(p)) {
		for _, src := range d.Src {
			out = append(out, Transition{Event: d.Name, From: src, To: d.Dst})
		}
	}
	return out
}

func stepStates(p *Profile) []string {
	s := make([]string, len(p.Steps))
	for i := range p.Steps {
		s[i] = StepState(p, i)
	}
	return s
}

// drains reports whether any trigger drains: only then has the machine a
// draining state.
func drains(p *Profile) bool {
	for _, acts := range p.Triggers {
		for _, a := range acts {
			if a == ActionDrain {
				return true
			}
		}
	}
	return false
}

func hasFinalize(p *Profile) bool { return p.Finalize != nil && len(p.Finalize.Command) > 0 }

// machineEvents derives the machine from the profile: the fixed skeleton
// (running, draining, cancelling, finalizing, done) with the steps chained
// in order between cancelling and the end.
func machineEvents(p *Profile, steps []string) []fsm.EventDesc {
	pre := []string{StateRunning}
	var evs []fsm.EventDesc
	if drains(p) {
		pre = append(pre, StateDraining)
		evs = append(evs, fsm.EventDesc{Name: EventDrain, Src: []string{StateRunning}, Dst: StateDraining})
	}
	evs = append(evs, fsm.EventDesc{Name: EventCancel, Src: pre, Dst: StateCancelling})
	live := append(append(pre, StateCancelling), steps...)
	cancelled := live[len(pre):]
	stopped := StateDone
	if hasFinalize(p) {
		stopped = StateFinalizing
	}
	prev := StateCancelling
	for _, s := range steps {
		evs = append(evs, fsm.EventDesc{Name: s, Src: []string{prev}, Dst: s})
		prev = s
	}
	evs = append(evs,
		fsm.EventDesc{Name: EventJobStopped, Src: live, Dst: stopped},
		fsm.EventDesc{Name: EventAbandoned, Src: live, Dst: stopped},
	)
	ends := cancelled
	exits := live
	if stopped == StateFinalizing {
		ends = append(append([]string(nil), cancelled...), StateFinalizing)
		exits = append(append([]string(nil), live...), StateFinalizing)
		evs = append(evs, fsm.EventDesc{Name: EventFinalized, Src: []string{StateFinalizing}, Dst: StateDone})
	}
	if p.Deadline > 0 {
		evs = append(evs, fsm.EventDesc{Name: EventDeadline, Src: ends, Dst: StateDone})
	}
	evs = append(evs, fsm.EventDesc{Name: EventExit, Src: exits, Dst: StateDone})
	return evs
}
