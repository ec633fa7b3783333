package engine

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// This file is the timeline core: given the current time and the inputs
// that arrived, it decides which transitions happen and which effects the
// target must carry out. It performs no I/O and starts no goroutine; the
// effects go to the driver (effects.go), events to the sinks (events.go).

// begin starts the run at now with the job running.
func (m *machine) begin(ctx context.Context, now time.Time) {
	m.begun = true
	m.ctx = context.WithoutCancel(ctx)
	m.jobDone = m.target.Done()
	m.start = now
	m.emit(now, "", StateRunning, what{cause: "start"})
}

// step takes every input that is ready, then does everything due at now.
// Inputs go first: a job that has already stopped, or a signal that has
// already arrived, wins over a timer due at the same instant.
func (m *machine) step(now time.Time) {
	m.hold()
	m.stepHeld(now)
	m.holding = false
	if m.signalled && !m.finished() {
		m.signalled = false
		m.flushAt = now.Add(eventLag) // the driver wakes for it
		return
	}
	m.signalled = false
	m.flush()
}

func (m *machine) stepHeld(now time.Time) {
	for {
		m.poll(now)
		m.fire(now)
		// What the step itself caused may come back at once (a command
		// cut off in virtual time): take it now, before time moves on.
		if m.finished() || !m.begun || (len(m.cmds.done) == 0 && !m.hasInput()) {
			return
		}
	}
}

// poll handles ready inputs in a fixed order: the job's end, finished
// commands, then signals and Cancel calls in arrival order.
func (m *machine) poll(now time.Time) {
	m.pollJob(now)
execs:
	for m.cmds.done != nil && !m.finished() {
		select {
		case r := <-m.cmds.done:
			m.execDone(now, r)
		default:
			break execs
		}
	}
	if m.finished() {
		return // the run is over: later inputs are not part of it
	}
	if !m.begun && !m.takeBegin() {
		return // a SharedClock saw inputs that came before Run
	}
	in := m.takeInputs()
	for i := range in {
		x := &in[i]
		if m.finished() {
			return
		}
		at := x.at
		if at.Before(m.start) {
			at = m.start // delivered before Run: it happens at the start
		}
		if at.After(now) {
			at = now
		}
		switch x.kind {
		case inSignal:
			m.signal(at, x.name)
		case inCancel:
			m.cancelBy(at, x.name, "")
		case inJob:
			if !m.jobEnded {
				m.jobStopped(now, x.exit, x.ok)
			}
		case inExec:
			m.execDone(now, x.res)
		case inEffect:
			m.effectDone(now, x.late)
		case inAbort:
			m.end(now, EventExit, x.name)
		}
	}
}

func (m *machine) pollJob(now time.Time) {
	if m.jobDone == nil || m.finished() {
		return
	}
	select {
	case x, ok := <-m.jobDone:
		m.jobStopped(now, x, ok)
	default:
	}
}

// fire does everything due at or before now, one item at a time, taking
// inputs between items, so that a job that stopped because of one item (or
// a signal that came meanwhile) is seen before the next.
func (m *machine) fire(now time.Time) {
	for !m.finished() {
		m.poll(now)
		if m.finished() {
			return
		}
		switch kind, i := m.due(now); kind {
		case dueNone:
			return
		case dueStep:
			m.runStep(now, i)
		case dueDeadline:
			m.end(now, EventDeadline, "deadline")
		case dueFinalize:
			m.cutFinalize(now)
		case dueCommand:
			m.cutCommand(i)
		}
	}
}

type dueKind uint8

const (
	dueNone dueKind = iota
	dueStep
	dueDeadline
	dueFinalize
	dueCommand
)

// due reports the first item due at or before now.
func (m *machine) due(now time.Time) (dueKind, int) {
	at, kind, i := m.nextItem()
	if kind == dueNone || at.After(now) {
		return dueNone, 0
	}
	return kind, i
}

// nextDue reports when the core next needs to run, if ever.
func (m *machine) nextDue() (time.Time, bool) {
	at, kind, _ := m.nextItem()
	return at, kind != dueNone
}

// nextItem finds the earliest pending item. On equal times a step goes
// before the deadline, which goes before command cut-offs.
func (m *machine) nextItem() (time.Time, dueKind, int) {
	var at time.Time
	kind, idx := dueNone, 0
	consider := func(t time.Time, k dueKind, i int) {
		if kind == dueNone || t.Before(at) {
			at, kind, idx = t, k, i
		}
	}
	if m.finished() {
		return at, kind, idx
	}
	if m.cancelled {
		if !m.decided() && m.next < len(m.prof.Steps) {
			consider(m.t0.Add(m.prof.Steps[m.next].At), dueStep, m.next)
		}
		if m.prof.Deadline > 0 {
			consider(m.t0.Add(m.prof.Deadline), dueDeadline, 0)
		}
	}
	if !m.finalizeAt.IsZero() {
		consider(m.finalizeAt, dueFinalize, 0)
	}
	for i := range m.cmds.list {
		if e := &m.cmds.list[i]; e.running && !e.cutAt.IsZero() {
			consider(e.cutAt, dueCommand, i)
		}
	}
	return at, kind, idx
}

// signal handles one delivery of sig according to the profile's triggers.
func (m *machine) signal(now time.Time, sig string) {
	n := m.count(sig)
	m.lastSig = sig
	cause := "signal " + sig + " #" + strconv.Itoa(n)
	acts := m.prof.Triggers[sig]
	if len(acts) == 0 {
		m.note(now, what{cause: cause, result: "ignored: no trigger for " + sig})
		return
	}
	act := acts[min(n, len(acts))-1]
	if m.decided() && act != ActionExit {
		m.note(now, what{cause: cause, result: "ignored (" + string(act) + "): outcome already decided"})
		return
	}
	switch act {
	case ActionDrain:
		switch {
		case m.cancelled:
			m.note(now, what{cause: cause, result: "ignored (drain): cancellation under way"})
		case m.state == StateDraining:
			m.note(now, what{cause: cause, result: "ignored (drain): already draining"})
		default:
			m.cause, m.res.Reason = cause, cause
			m.transition(now, EventDrain, what{cause: cause})
		}
	case ActionCancel:
		m.cancelBy(now, cause, string(act))
	case ActionExit:
		m.end(now, EventExit, cause)
	case ActionForward:
		m.note(now, m.act(now, effect{kind: effForward, sig: sig},
			what{cause: cause, action: "signal " + sig, target: string(ScopeGroup)}))
	default: // ActionIgnore, and anything newer than this engine
		m.note(now, what{cause: cause, result: "ignored"})
	}
}

func (m *machine) count(sig string) int {
	for i := range m.counts {
		if m.counts[i].sig == sig {
			m.counts[i].n++
			return m.counts[i].n
		}
	}
	m.counts = append(m.counts, sigCount{sig, 1})
	return 1
}

// cancelBy starts cancellation: t0 is now.
func (m *machine) cancelBy(now time.Time, cause, act string) {
	if m.cancelled || m.decided() {
		m.cancelIgnored(now, cause, act)
		return
	}
	m.cancelled, m.t0 = true, now
	m.cause, m.res.Reason = cause, cause
	m.transition(now, EventCancel, what{cause: cause})
}

// cancelIgnored logs a cancel that comes too late. It is apart from
// cancelBy to keep that one's frame, on the path of every cancellation,
// small.
func (m *machine) cancelIgnored(now time.Time, cause, act string) {
	why := "cancellation under way"
	if m.decided() {
		why = "outcome already decided"
	}
	if act != "" {
		why = " (" + act + "): " + why
	} else {
		why = ": " + why
	}
	m.note(now, what{cause: cause, result: "ignored" + why})
}

// runStep carries out step i and moves the machine to its state.
func (m *machine) runStep(now time.Time, i int) {
	s := &m.prof.Steps[i]
	si := &m.steps[i]
	m.next = i + 1
	ev := what{cause: si.cause, action: si.action}
	switch s.Kind {
	case StepSignal:
		ev.target = string(s.Scope)
		ev = m.act(now, effect{kind: effSignal, sig: s.Signal, scope: s.Scope}, ev)
	case StepNotify:
		ev.target = "job"
		ev = m.act(now, effect{kind: effNotify, msg: s.Notify}, ev)
	case StepAbandon:
		ev.target = "job"
		ev = m.act(now, effect{kind: effAbandon}, ev)
	case StepCommand:
		ev.target = "command"
		m.startExec(now, s.Command, si.cause, false, s.Timeout, i)
		ev.result = "started"
	}
	m.transition(now, si.state, ev)
	if s.Kind == StepAbandon {
		m.decide(now, EventAbandoned, what{cause: "job abandoned"}, OutcomeAbandoned, Exit{Abandoned: true}, si.cause)
	}
}

// jobStopped handles the job's end as the target reported it.
func (m *machine) jobStopped(now time.Time, x Exit, ok bool) {
	m.jobDone, m.jobEnded = nil, true
	if !ok { // closed without a report: treat as lost
		x = Exit{Abandoned: true}
	}
	if m.decided() {
		return // abandoned earlier: nothing the job does matters now
	}
	outcome := OutcomeExited
	cause := describeExit(x)
	switch {
	case x.Err != nil:
		outcome = OutcomeFailedToStart
	case x.Abandoned:
		outcome = OutcomeAbandoned
	case m.cancelled:
		outcome = OutcomeCancelled
	}
	event := EventJobStopped
	if outcome == OutcomeAbandoned {
		event = EventAbandoned
	}
	m.decide(now, event, what{cause: cause}, outcome, x, "")
}

func describeExit(x Exit) string {
	switch {
	case x.Err != nil:
		return "job failed to start: " + x.Err.Error()
	case x.Abandoned:
		return "job lost"
	case x.Signal != "":
		return "job killed by " + x.Signal
	default:
		return "job exited with status " + strconv.Itoa(x.Code)
	}
}

// decide records the outcome and moves on to finalisation or the end.
func (m *machine) decide(now time.Time, event string, ev what, o Outcome, x Exit, reason string) {
	m.res.Outcome, m.res.Exit = o, x
	if reason != "" && o == OutcomeAbandoned {
		m.res.Reason = reason
	}
	m.res.Status = exitStatus(o, x, m.cause, m.prof.ExitCodes)
	if !hasFinalize(m.prof) {
		m.finish(now, event, ev)
		return
	}
	m.transition(now, event, ev)
	f := m.prof.Finalize
	if !m.cancelled && f.Timeout > 0 {
		m.finalizeAt = now.Add(f.Timeout)
	}
	m.startExec(now, f.Command, "finalize", true, 0, -1)
	m.note(now, what{cause: "finalize", action: m.cmds.list[len(m.cmds.list)-1].label, target: "finalize", result: "started"})
}

// exitStatus is docs/exit-codes.md: the job's status, 128+N for a death by
// signal N (SIGQUIT always 131), graceful's own codes otherwise.
func exitStatus(o Outcome, x Exit, cause string, codes ExitCodes) int {
	if codes.Abandoned == 0 {
		codes.Abandoned = DefaultExitCodes.Abandoned
	}
	if codes.Timeout == 0 {
		codes.Timeout = DefaultExitCodes.Timeout
	}
	switch o {
	case OutcomeFailedToStart:
		if x.Code != 0 {
			return x.Code
		}
		return ExitInternal
	case OutcomeAbandoned:
		return codes.Abandoned
	case OutcomeCancelled:
		if cause == CauseTimeout && codes.Timeout != -1 {
			return codes.Timeout
		}
	}
	if x.Signal == "SIGQUIT" {
		return 131
	}
	if x.Signal != "" && x.SignalNumber == 0 {
		if n := SignalNumber(x.Signal); n != 0 {
			return 128 + n
		}
	}
	return x.Status()
}

// end is the dead-man's switch, an exit trigger, or Run's context: kill
// what can be killed, cut whatever still runs, and stop now.
func (m *machine) end(now time.Time, event, cause string) {
	ev := m.act(now, effect{kind: effAbandon}, what{cause: cause, action: "abandon", target: "job"})
	if !m.decided() {
		m.res.Outcome, m.res.Exit, m.res.Reason = OutcomeAbandoned, Exit{Abandoned: true}, cause
		m.res.Status = exitStatus(OutcomeAbandoned, Exit{}, m.cause, m.prof.ExitCodes)
	} else if m.state == StateFinalizing {
		m.res.FinalizeErr = fmt.Errorf("finalisation cut off by %s", cause)
	}
	m.finish(now, event, ev)
}

// cutFinalize ends a finalisation that ran past Finalize.Timeout (only
// when there was no cancellation, so no deadline).
func (m *machine) cutFinalize(now time.Time) {
	m.finalizeAt = time.Time{}
	why := "cut off after " + m.prof.Finalize.Timeout.String()
	m.res.FinalizeErr = fmt.Errorf("finalisation %s", why)
	m.finish(now, EventFinalized, what{cause: "finalize timeout", action: m.finalizeLabel(), target: "finalize", result: why})
}

func (m *machine) finalizeLabel() string {
	for i := range m.cmds.list {
		if m.cmds.list[i].finalize {
			return m.cmds.list[i].label
		}
	}
	return ""
}

// finish enters StateDone: the run is over. Commands still running are cut.
func (m *machine) finish(now time.Time, event string, ev what) {
	for i := range m.cmds.list {
		if e := &m.cmds.list[i]; e.running && e.cancel != nil {
			if e.cutWhy == "" {
				e.cutWhy = "cut off: run ended"
			}
			e.cancel()
		}
	}
	if m.cancelled {
		m.res.Elapsed = now.Sub(m.t0)
	} else {
		m.res.Elapsed = now.Sub(m.start)
	}
	m.transition(now, event, ev)
}
