//go:build linux

package kubernetes

import (
	"fmt"
	"strings"
	"time"

	"github.com/graceful-sh/graceful/engine"
)

// schedule is the coordinator's policy for its job containers: which slot a
// connecting container takes, which container starts, which is skipped,
// lost or given up, and when the job is over and with what status.
//
// It is pure: an event goes in (a container connected, reported its exit,
// was lost; the start timeout passed; the engine cancelled or abandoned),
// and the acts to carry out come back in the order they are to happen. It
// holds no connection, starts no goroutine and reads no clock: the start
// timeout is an event from the coordinator's timer, and liveness is the
// connections' business, which report a silent container as lost. The
// Coordinator calls it with its lock held and performs the acts.
type schedule struct {
	slots []ContainerStatus // in start order
	// joined records the slots whose container connected and took part
	// (it may have gone since): their name cannot be claimed again.
	joined []bool
	// named: the slots' names were declared (Config.Jobs); otherwise they
	// take the names their containers present, in the order they connect.
	named        bool
	parallel     bool
	startTimeout time.Duration // for the never-connected reason only

	cancelled, abandoned, finished bool
}

// actKind is what the coordinator is to do for one slot.
type actKind int

const (
	actStart          actKind = iota // waiting → running: tell it to start
	actSkip                          // → skipped: tell it so if it is connected
	actInterrupt                     // running: push interrupt ("cancelled")
	actAbandon                       // running → abandoned: tell it bye
	actAck                           // running → exited: acknowledge the report
	actLost                          // → lost: nothing left to tell
	actNeverConnected                // pending → never-connected
	actDone                          // every slot is final: Exit is the job's
)

var actNames = [...]string{"start", "skip", "interrupt", "abandon", "ack", "lost", "never-connected", "done"}

func (k actKind) String() string { return actNames[k] }

// act is one decision of the schedule.
type act struct {
	Kind actKind
	Slot int
	// Status is the slot's status after the act, from which the
	// coordinator logs and talks.
	Status ContainerStatus
	// Exit is the job's status (actDone, whose Slot is -1).
	Exit engine.Exit
}

func newSchedule(names []string, count int, parallel bool, startTimeout time.Duration) *schedule {
	s := &schedule{named: len(names) > 0, parallel: parallel, startTimeout: startTimeout}
	for _, name := range names {
		s.slots = append(s.slots, ContainerStatus{Name: name, State: StatePending})
	}
	if !s.named {
		for range max(count, 1) {
			s.slots = append(s.slots, ContainerStatus{State: StatePending})
		}
	}
	s.joined = make([]bool, len(s.slots))
	return s
}

// claim finds the slot of a container presenting name, naming it if the
// slots' names were not declared. It returns -1 and why when the
// container is refused.
func (s *schedule) claim(name string) (int, string) {
	if s.named {
		for i, st := range s.slots {
			if st.Name == name {
				if s.joined[i] {
					return -1, fmt.Sprintf("container %s already connected", name)
				}
				return i, ""
			}
		}
		names := make([]string, len(s.slots))
		for i, st := range s.slots {
			names[i] = st.Name
		}
		return -1, fmt.Sprintf("unknown container %q (expected one of: %s)", name, strings.Join(names, ", "))
	}
	for _, st := range s.slots {
		if name != "" && st.Name == name {
			return -1, fmt.Sprintf("container %s already connected", name)
		}
	}
	for i := range s.slots {
		if s.slots[i].Name == "" {
			s.slots[i].Name = name
			if name == "" {
				s.slots[i].Name = s.freeName(i)
			}
			return i, ""
		}
	}
	// Too late: its slot was given up at the start timeout. It is told
	// to skip, like a late container with a declared name.
	for i, st := range s.slots {
		if st.State == StateNeverConnected {
			return i, ""
		}
	}
	return -1, fmt.Sprintf("all %d job containers have already connected", len(s.slots))
}

// freeName is job-i for the slot at index i, or the next job-N no other
// container has taken (one may have presented "job-1" itself).
func (s *schedule) freeName(i int) string {
	for n := i; ; n++ {
		name := fmt.Sprintf("job-%d", n)
		taken := false
		for _, st := range s.slots {
			taken = taken || st.Name == name
		}
		if !taken {
			return name
		}
	}
}

// connected: the container that claimed slot i is there and waits its
// turn. It reports false when the slot is final already (skipped before
// the container came, or given up at the start timeout): the container is
// then to be told to skip, with the slot's reason, and takes no part.
func (s *schedule) connected(i int) ([]act, bool) {
	if s.slots[i].State.final() {
		return nil, false
	}
	s.slots[i].State = StateWaiting
	s.joined[i] = true
	return s.advance(nil), true
}

// exited: slot i's container reported how its job ended. It reports false
// when the container was not running (abandoned meanwhile): the report is
// out of order.
func (s *schedule) exited(i int, exit engine.Exit) ([]act, bool) {
	if s.slots[i].State != StateRunning {
		return nil, false
	}
	acts := s.finish(nil, actAck, i, StateExited, exit, "")
	return s.advance(acts), true
}

// lost: slot i's connection ended without an exit report, for reason.
// A container that had finished (exited, abandoned) is not lost.
func (s *schedule) lost(i int, reason string) []act {
	if s.slots[i].State.final() {
		return nil
	}
	acts := s.finish(nil, actLost, i, StateLost, engine.Exit{Abandoned: true, Code: engine.DefaultExitCodes.Abandoned}, reason)
	return s.advance(acts)
}

// timedOut: the start timeout passed; every container that has not
// connected is never-connected.
func (s *schedule) timedOut() []act {
	var acts []act
	for i := range s.slots {
		if s.slots[i].State == StatePending {
			if s.slots[i].Name == "" {
				s.slots[i].Name = s.freeName(i)
			}
			acts = s.finish(acts, actNeverConnected, i, StateNeverConnected, engine.Exit{Err: ErrNeverConnected, Code: engine.ExitInternal},
				fmt.Sprintf("did not connect within %v", s.startTimeout))
		}
	}
	return s.advance(acts)
}

// cancel: the engine's interrupt. Running containers are interrupted, the
// others skipped. It reports false when the job is over already.
func (s *schedule) cancel() ([]act, bool) {
	if s.finished {
		return nil, false
	}
	s.cancelled = true
	var acts []act
	for i, st := range s.slots {
		if st.State == StateRunning {
			acts = append(acts, act{Kind: actInterrupt, Slot: i, Status: st})
		}
	}
	return s.advance(acts), true
}

// abandon: the engine stops waiting. Running containers are abandoned, the
// others skipped.
func (s *schedule) abandon() []act {
	s.abandoned = true
	var acts []act
	for i := range s.slots {
		if s.slots[i].State == StateRunning {
			acts = s.finish(acts, actAbandon, i, StateAbandoned, engine.Exit{Abandoned: true, Code: engine.DefaultExitCodes.Abandoned}, "still running when abandoned")
		}
	}
	return s.advance(acts)
}

// finish moves slot i to a final state, adding kind's act to acts; a slot
// that is final already stays as it is.
func (s *schedule) finish(acts []act, kind actKind, i int, st State, exit engine.Exit, reason string) []act {
	if s.slots[i].State.final() {
		return acts
	}
	s.slots[i].State, s.slots[i].Exit, s.slots[i].Reason = st, exit, reason
	return append(acts, act{Kind: kind, Slot: i, Status: s.slots[i]})
}

// advance adds to acts the starts and skips the states now allow, and the
// end of the job once every slot is final. Every event ends with it.
func (s *schedule) advance(acts []act) []act {
	if s.finished {
		return acts
	}
	var failed *ContainerStatus
	for i, st := range s.slots {
		if st.State.final() && st.State != StateSkipped && !st.Succeeded() {
			failed = &s.slots[i]
			break
		}
	}
	if s.cancelled || s.abandoned || (failed != nil && !s.parallel) {
		reason := "cancelled"
		switch {
		case s.abandoned:
			reason = "abandoned"
		case failed != nil && !s.cancelled:
			reason = fmt.Sprintf("container %s failed (%s)", failed.Name, failed.State)
		}
		// Every waiting container is told at once, not one by one.
		for i, st := range s.slots {
			if st.State == StateWaiting || st.State == StatePending {
				acts = s.finish(acts, actSkip, i, StateSkipped, engine.Exit{Code: ExitSkipped}, reason)
			}
		}
	} else {
		for i := range s.slots {
			if s.slots[i].State == StateWaiting {
				s.slots[i].State = StateRunning
				acts = append(acts, act{Kind: actStart, Slot: i, Status: s.slots[i]})
			}
			if !s.parallel && !s.slots[i].State.final() {
				break // the next one waits for this one
			}
		}
	}
	for _, st := range s.slots {
		if !st.State.final() {
			return acts
		}
	}
	s.finished = true
	return append(acts, act{Kind: actDone, Slot: -1, Exit: s.summary()})
}

// summary is the job's Exit: the first failure in start order; else a skip
// (cancelled before anything ran); else the last container's exit.
func (s *schedule) summary() engine.Exit {
	var skipped *ContainerStatus
	for i, st := range s.slots {
		if st.State == StateSkipped {
			if skipped == nil {
				skipped = &s.slots[i]
			}
			continue
		}
		if !st.Succeeded() {
			return st.Exit
		}
	}
	if skipped != nil {
		return skipped.Exit
	}
	return s.slots[len(s.slots)-1].Exit
}
