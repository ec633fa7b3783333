package engine

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/looplab/fsm"
)

// This file is the interpreter: a step-wise core that turns a Profile into a
// looplab/fsm machine and decides what to do at each input. It owns no
// goroutine and reads no clock: the drivers in loop.go (real time) and
// virtual.go (virtual time) hand it the current time, feed it inputs, and
// ask it when it next needs to wake.

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

// SimulatedExec is implemented by simulated targets. Under a VirtualClock
// the engine asks it how long a command would run and how it would end,
// instead of calling Exec, so commands take virtual time. Targets without
// it have Exec called as usual, and its run counts as taking no virtual
// time.
type SimulatedExec interface {
	SimulateExec(argv, env []string) (time.Duration, error)
}

type inputKind uint8

const (
	inSignal inputKind = iota
	inCancel
	// The rest are forwarded by Run's goroutine on a SharedClock.
	inBegin
	inJob
	inExec
	inAbort
)

// input is something for the core, stamped when it arrived: a signal or a
// Cancel call, or (on a SharedClock) Run starting, the job's end, a
// finished command or the end of Run's context.
type input struct {
	kind inputKind
	name string
	at   time.Time
	ctx  context.Context // inBegin
	exit Exit            // inJob
	ok   bool            // inJob: Done was not closed
	res  execResult      // inExec
}

type execResult struct {
	id   int
	err  error
	real bool // ran Target.Exec on a goroutine
}

// execRun is a command step or the finalisation, started by the core.
type execRun struct {
	label    string // "exec ./upload.sh"
	cause    string // "step hook" or "finalize"
	finalize bool
	cancel   func()
	timeout  time.Duration
	cutAt    time.Time // zero: only the deadline or the end cut it
	cutWhy   string
	running  bool
}

type sigCount struct {
	sig string
	n   int
}

// what describes an event for the sinks: the machine keeps these four
// strings small on its stack and builds an Event only when there is a sink.
type what struct {
	cause, action, target, result string
}

// stepInfo holds a step's precomputed names, so running a step does not
// build strings.
type stepInfo struct {
	state, cause, action, next string
}

// machine is the interpreter behind Engine.
type machine struct {
	prof   *Profile
	target Target
	clock  Clock
	vclock *VirtualClock // non-nil: run in virtual time
	shared *SharedClock  // non-nil: the clock runs the due work
	sinks  []Sink
	env    []string
	fsm    *fsm.FSM
	steps  []stepInfo

	// The inbox is the only state shared with other goroutines.
	mu    sync.Mutex
	inbox []input
	wake  chan struct{}
	used  atomic.Bool

	// On a SharedClock the clock's goroutine runs the core below and Run's
	// goroutine only forwards inputs; entry and inBatch belong to the
	// clock's goroutine, kicked and nextKick to its queue of inputs.
	entry       sharedEntry
	inBatch     bool
	kicked      atomic.Bool
	nextKick    *machine
	kickedLater atomic.Bool
	nextLater   *machine
	over        atomic.Bool // finished, published to Run's goroutine

	// Everything below belongs to the goroutine running the core: Run's
	// (RealClock, VirtualClock) or the SharedClock's.
	ctx       context.Context // Run's values without its cancellation, for Exec
	jobDone   <-chan Exit     // nil once the job's end has been received
	jobEnded  bool            // the job's end has been received
	execCh    chan execResult
	execs     []execRun
	realExecs int // Exec calls still running on goroutines

	start, t0  time.Time
	begun      bool
	cancelled  bool
	decided    bool // the outcome is known; steps no longer run
	finished   bool
	cause      string // what started cancellation (or draining)
	next       int    // index of the next step to run
	counts     []sigCount
	lastSig    string
	finalizeAt time.Time // finalisation's own cut-off when there is no t0
	state      string    // the machine's current state, as of the last Event
	res        Result
}

func newMachine(cfg Config) (*machine, error) {
	p := cfg.Profile
	if p == nil {
		return nil, fmt.Errorf("%w: no profile", ErrConfig)
	}
	if cfg.Target == nil {
		return nil, fmt.Errorf("%w: no target", ErrConfig)
	}
	for i := 1; i < len(p.Steps); i++ {
		if p.Steps[i].At < p.Steps[i-1].At {
			return nil, fmt.Errorf("%w: profile %q: step %q at %v comes after step %q at %v",
				ErrConfig, p.Name, p.Steps[i].Name, p.Steps[i].At, p.Steps[i-1].Name, p.Steps[i-1].At)
		}
	}
	m := &machine{
		prof:   p,
		target: cfg.Target,
		clock:  cfg.Clock,
		sinks:  cfg.Sinks,
		env:    cfg.Env,
		wake:   make(chan struct{}, 1),
	}
	if m.clock == nil {
		m.clock = RealClock{}
	}
	m.vclock, _ = m.clock.(*VirtualClock)
	m.shared, _ = m.clock.(*SharedClock)
	m.entry = sharedEntry{slot: -1}

	states := stepStates(p)
	m.steps = make([]stepInfo, len(p.Steps))
	nexec := 0
	for i, s := range p.Steps {
		info := stepInfo{state: states[i], cause: "step " + s.Name}
		switch s.Kind {
		case StepSignal:
			info.action, info.next = "signal "+s.Signal, s.Signal
		case StepNotify:
			info.action, info.next = "notify "+s.Notify, "notify "+s.Notify
		case StepCommand:
			info.action, info.next = "exec "+strings.Join(s.Command, " "), "command "+s.Name
			nexec++
		case StepAbandon:
			info.action, info.next = "abandon", "abandon"
		default:
			return nil, fmt.Errorf("%w: profile %q: step %q has unknown kind %q", ErrConfig, p.Name, s.Name, s.Kind)
		}
		m.steps[i] = info
	}
	if hasFinalize(p) {
		nexec++
	}
	if nexec > 0 {
		// Every exec sends exactly one result, so sends never block, even
		// after Run has returned.
		m.execCh = make(chan execResult, nexec)
	}
	// No callbacks: the loop acts after Event returns, never inside it
	// (calling Event from a callback deadlocks, and waiting there would
	// block the machine). Without callbacks, fsm's eight callback lookups
	// per Event hit an empty map, which keeps transitions cheap.
	m.fsm = fsm.NewFSM(StateRunning, machineEvents(p, states), nil)
	m.state = StateRunning
	return m, nil
}

// deliver and cancel may be called from any goroutine, before or during Run.
func (m *machine) deliver(sig string)  { m.push(input{kind: inSignal, name: sig, at: m.clock.Now()}) }
func (m *machine) cancel(cause string) { m.push(input{kind: inCancel, name: cause, at: m.clock.Now()}) }

func (m *machine) push(in input) {
	m.mu.Lock()
	m.inbox = append(m.inbox, in)
	m.mu.Unlock()
	if m.shared != nil {
		// Its goroutine handles it (after Run has begun).
		m.shared.kick(m, in.kind != inJob && in.kind != inExec)
		return
	}
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// hasInput reports whether inputs wait in the inbox.
func (m *machine) hasInput() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.inbox) > 0
}

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
	for {
		m.poll(now)
		m.fire(now)
		// What the step itself caused may come back at once (a command
		// cut off in virtual time): take it now, before time moves on.
		if m.finished || !m.begun || (len(m.execCh) == 0 && !m.hasInput()) {
			return
		}
	}
}

// poll handles ready inputs in a fixed order: the job's end, finished
// commands, then signals and Cancel calls in arrival order.
func (m *machine) poll(now time.Time) {
	m.pollJob(now)
execs:
	for m.execCh != nil && !m.finished {
		select {
		case r := <-m.execCh:
			m.execDone(now, r)
		default:
			break execs
		}
	}
	if m.finished {
		return // the run is over: later inputs are not part of it
	}
	if !m.begun && !m.takeBegin() {
		return // a SharedClock saw inputs that came before Run
	}
	m.mu.Lock()
	in := m.inbox
	m.inbox = nil
	m.mu.Unlock()
	for i := range in {
		x := &in[i]
		if m.finished {
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
		case inAbort:
			m.end(now, EventExit, x.name)
		}
	}
}

// takeBegin begins the run if Run's start is in the inbox (SharedClock),
// leaving the inputs that came before it there, and reports whether it did.
func (m *machine) takeBegin() bool {
	m.mu.Lock()
	i := slices.IndexFunc(m.inbox, func(x input) bool { return x.kind == inBegin })
	if i < 0 {
		m.mu.Unlock()
		return false
	}
	b := m.inbox[i]
	m.inbox = slices.Delete(slices.Clone(m.inbox), i, i+1)
	m.mu.Unlock()
	m.begin(b.ctx, b.at)
	return true
}

func (m *machine) pollJob(now time.Time) {
	if m.jobDone == nil || m.finished {
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
	for !m.finished {
		m.poll(now)
		if m.finished {
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
			m.execs[i].cutWhy = "cut off after " + m.execs[i].timeout.String()
			m.execs[i].cutAt = time.Time{}
			m.execs[i].cancel()
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
	if m.finished {
		return at, kind, idx
	}
	if m.cancelled {
		if !m.decided && m.next < len(m.prof.Steps) {
			consider(m.t0.Add(m.prof.Steps[m.next].At), dueStep, m.next)
		}
		if m.prof.Deadline > 0 {
			consider(m.t0.Add(m.prof.Deadline), dueDeadline, 0)
		}
	}
	if !m.finalizeAt.IsZero() {
		consider(m.finalizeAt, dueFinalize, 0)
	}
	for i := range m.execs {
		if e := &m.execs[i]; e.running && !e.cutAt.IsZero() {
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
	if m.decided && act != ActionExit {
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
		err := m.target.Signal(sig, ScopeGroup)
		m.note(now, what{cause: cause, action: "signal " + sig, target: string(ScopeGroup), result: result(err)})
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
	if m.cancelled || m.decided {
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
	if m.decided {
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
	var err error
	switch s.Kind {
	case StepSignal:
		ev.target = string(s.Scope)
		err = m.target.Signal(s.Signal, s.Scope)
	case StepNotify:
		ev.target = "job"
		err = m.target.Notify(s.Notify)
	case StepAbandon:
		ev.target = "job"
		err = m.target.Abandon()
	case StepCommand:
		ev.target = "command"
		m.startExec(now, s.Command, si.cause, false, s.Timeout, i)
		ev.result = "started"
	}
	if ev.result == "" {
		ev.result = result(err)
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
	if m.decided {
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
	m.decided = true
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
	m.note(now, what{cause: "finalize", action: m.execs[len(m.execs)-1].label, target: "finalize", result: "started"})
}

// exitStatus is DESIGN.md section 1: the job's status, 128+N for a death by
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
		if cause == "timeout" && codes.Timeout != -1 {
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
	err := m.target.Abandon()
	ev := what{cause: cause, action: "abandon", target: "job", result: result(err)}
	if !m.decided {
		m.decided = true
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
	for i := range m.execs {
		if m.execs[i].finalize {
			return m.execs[i].label
		}
	}
	return ""
}

// finish enters StateDone: the run is over. Commands still running are cut.
func (m *machine) finish(now time.Time, event string, ev what) {
	for i := range m.execs {
		if e := &m.execs[i]; e.running && e.cancel != nil {
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
	m.finished = true
	m.transition(now, event, ev)
}

// startExec runs argv for a command step (step >= 0) or the finalisation.
func (m *machine) startExec(now time.Time, argv []string, cause string, finalize bool, timeout time.Duration, step int) {
	id := len(m.execs)
	m.execs = append(m.execs, execRun{label: "exec " + strings.Join(argv, " "), cause: cause, finalize: finalize, timeout: timeout, running: true})
	if timeout > 0 {
		m.execs[id].cutAt = now.Add(timeout)
	}
	env := m.outcomeEnv(now, step)
	ch := m.execCh
	if m.vclock != nil {
		if se, ok := m.target.(SimulatedExec); ok {
			d, err := se.SimulateExec(argv, env)
			t := m.vclock.AfterFunc(d, func() { ch <- execResult{id: id, err: err} })
			m.execs[id].cancel = func() {
				if t.Stop() {
					ch <- execResult{id: id, err: context.Canceled}
				}
			}
			return
		}
	}
	ctx, cancel := context.WithCancel(m.ctx)
	m.execs[id].cancel = cancel
	m.realExecs++
	target := m.target
	go func() {
		err := target.Exec(ctx, argv, env)
		cancel()
		ch <- execResult{id: id, err: err, real: true}
	}()
}

// execDone records a command's end.
func (m *machine) execDone(now time.Time, r execResult) {
	if r.real {
		m.realExecs--
	}
	e := &m.execs[r.id]
	if !e.running {
		return
	}
	e.running = false
	if m.finished {
		return
	}
	res := result(r.err)
	if e.cutWhy != "" {
		res = e.cutWhy
	}
	ev := what{cause: e.cause + " finished", action: e.label, target: "command", result: res}
	if !e.finalize {
		m.note(now, ev)
		return
	}
	m.finalizeAt = time.Time{}
	ev.target = "finalize"
	if r.err != nil {
		m.res.FinalizeErr = r.err
	}
	m.finish(now, EventFinalized, ev)
}

// outcomeEnv is the environment of commands: Config.Env, then the outcome.
func (m *machine) outcomeEnv(now time.Time, step int) []string {
	outcome, status, code, sig := "pending", "", "", ""
	if m.decided {
		outcome, status = string(m.res.Outcome), strconv.Itoa(m.res.Status)
		x := m.res.Exit
		switch {
		case x.Signal != "":
			sig = x.Signal
		case !x.Abandoned && x.Err == nil:
			code = strconv.Itoa(x.Code)
		}
	}
	elapsed := now.Sub(m.start)
	if m.cancelled {
		elapsed = now.Sub(m.t0)
	}
	env := make([]string, 0, len(m.env)+8)
	env = append(env, m.env...)
	env = append(env,
		"GRACEFUL_OUTCOME="+outcome,
		"GRACEFUL_EXIT_STATUS="+status,
		"GRACEFUL_EXIT_CODE="+code,
		"GRACEFUL_SIGNAL="+sig,
		"GRACEFUL_REASON="+m.res.Reason,
		"GRACEFUL_ELAPSED_MS="+strconv.FormatInt(elapsed.Milliseconds(), 10),
		"GRACEFUL_PROFILE="+m.prof.Name,
	)
	if step >= 0 {
		env = append(env, "GRACEFUL_STEP="+m.prof.Steps[step].Name)
	}
	return env
}

// transition fires a machine event and reports it.
func (m *machine) transition(now time.Time, event string, ev what) {
	if err := m.fsm.Event(context.Background(), event); err != nil {
		m.badTransition(event, err)
	}
	from := m.state
	m.state = m.fsm.Current()
	m.emit(now, from, m.state, ev)
}

// badTransition panics: the table comes from machineEvents and every call
// site fires only events valid in the current state, so this is a bug.
//
//go:noinline
func (m *machine) badTransition(event string, err error) {
	panic(fmt.Sprintf("engine: %s in state %s: %v", event, m.fsm.Current(), err))
}

// note reports an action or input that did not change state.
func (m *machine) note(now time.Time, ev what) {
	m.emit(now, m.state, m.state, ev)
}

func (m *machine) emit(now time.Time, from, to string, w what) {
	if len(m.sinks) != 0 {
		m.emitSlow(now, from, to, &w)
	}
}

// emitSlow builds the Event. It is separate from emit so that without sinks
// the loop's stack stays small: thousands of parked engines each keep
// their stack, and growing it during a burst of cancellations is costly.
//
//go:noinline
func (m *machine) emitSlow(now time.Time, from, to string, w *what) {
	ev := Event{From: from, To: to, Cause: w.cause, Action: w.action, Target: w.target, Result: w.result}
	if m.finished {
		ev.Status = m.res.Status
	}
	ev.Time = now
	ev.Elapsed = now.Sub(m.start)
	if m.cancelled {
		ev.Cancelled, ev.Since = true, now.Sub(m.t0)
	}
	if ev.Outcome == "" && m.decided {
		ev.Outcome = m.res.Outcome
	}
	if !m.finished {
		if m.cancelled && !m.decided && m.next < len(m.prof.Steps) {
			ev.Next, ev.NextAction = m.prof.Steps[m.next].At, m.steps[m.next].next
		} else if m.cancelled && m.prof.Deadline > 0 {
			ev.Next, ev.NextAction = m.prof.Deadline, "deadline"
		}
		if m.lastSig != "" {
			ev.LastSignal = m.lastSig
			if acts := m.prof.Triggers[m.lastSig]; len(acts) > 0 {
				n := m.counts[0].n
				for _, c := range m.counts {
					if c.sig == m.lastSig {
						n = c.n
					}
				}
				ev.NextSignal = string(acts[min(n+1, len(acts))-1])
			}
		}
	}
	for _, s := range m.sinks {
		s.Emit(ev)
	}
}

func result(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}
