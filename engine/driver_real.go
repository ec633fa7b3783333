package engine

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// realDriver drives an engine on real time (or on any Clock without a
// driver of its own): one goroutine, one timer re-armed to the core's next
// due time, and a select over every input. Effects run on goroutines.
type realDriver struct {
	effects sync.WaitGroup // effects still running
	running atomic.Int32   // how many: settle need not wait when none is
}

// effectHold is how long the real driver waits for an effect's answer
// before the event goes out as pending: long enough for any signal send or
// socket write, short enough that a slow one (a walk of a churning tree)
// holds nothing up. The wait also ends when the next item falls due.
const effectHold = 20 * time.Millisecond

// minHold is the least wait for an answer, even when the next item is due
// at once (two steps at one offset): a goroutine's kill(2) takes a few
// microseconds, but a loaded machine may take a while to run it.
const minHold = 2 * time.Millisecond

func (d *realDriver) run(m *machine, ctx context.Context) Result {
	m.begin(ctx, m.clock.Now())
	var (
		timer Timer
		armed time.Time // due time the timer is set for; zero when idle
	)
	now := m.start
	_, roomy := m.clock.(PreciseClock)
	for !m.pass(ctx, now) {
		if m.urgent != nil && m.cancelled && m.flushAt.IsZero() {
			go m.urgent()
			m.urgent = nil
		}
		if roomy && m.finishRoomy() {
			now = m.clock.Now()
			continue
		}
		var w woke
		var fired bool
		if roomy {
			w, fired = m.waitRoomy(ctx, armTimer(m, &timer, &armed))
		} else {
			w, fired = m.wait(ctx, armTimer(m, &timer, &armed))
		}
		if fired {
			armed = time.Time{}
		}
		now = m.clock.Now()
		switch {
		case w.sig != nil:
			m.caught(now, w.sig)
		case w.job:
			m.jobStopped(now, w.exit, w.ok)
		case w.exec:
			m.execDone(now, w.res)
		}
	}
	if timer != nil {
		closeTimer(timer)
	}
	if t := m.spare.take(); t != nil {
		closeTimer(t) // made by Rehearse, never needed
	}
	m.flush() // what lagged behind the last signal
	d.settle(m, cutWait)
	return m.res
}

// settle waits, at most wait in all, for the commands cut off at the end
// and for effects still running (a kill of the tree at the deadline), so
// that Run returns after what it started, unless that hangs.
func (d *realDriver) settle(m *machine, wait time.Duration) {
	end := m.clock.Now().Add(wait)
	m.collectCut(wait)
	if d.running.Load() == 0 {
		return // the usual end: no goroutine and no timer to wait with
	}
	settled := make(chan struct{})
	go func() { d.effects.Wait(); close(settled) }()
	t := m.clock.NewTimer(max(end.Sub(m.clock.Now()), 0))
	defer t.Stop()
	select {
	case <-settled:
	case <-t.C():
	}
}

// do runs the effect on a goroutine and waits for its answer for at most
// effectHold, less when the next item falls due sooner; a quick signal
// (QuickSignaller) it sends itself, and the lead of another
// (LeadSignaller) before the goroutine starts.
func (d *realDriver) do(m *machine, now time.Time, e effect, ev what) (error, bool) {
	target := m.target
	if quick(m, e) {
		m.signalled = true
		return e.perform(target), false
	}
	led := e.kind == effSignal && m.lead != nil && m.lead.SignalLead(e.sig, e.scope)
	if led {
		m.signalled = true
	}
	answer := make(chan error, 1)
	d.effects.Add(1)
	d.running.Add(1)
	go func() {
		defer d.effects.Done()
		defer d.running.Add(-1)
		err := e.perform(target)
		if led && errors.Is(err, ErrGone) {
			// The lead is part of the signal and reached the job; the
			// rest finding nothing left is the lead's doing.
			err = nil
		}
		answer <- err
	}()
	start := m.clock.Now() // now is when this pass of the loop began
	hold := effectHold
	if due, ok := m.nextDue(); ok {
		hold = min(hold, max(due.Sub(start), minHold))
	}
	t := m.clock.NewTimer(hold)
	select {
	case err := <-answer:
		t.Stop()
		return err, false
	case <-t.C():
	}
	go func() {
		err := <-answer
		at := m.clock.Now()
		m.push(input{kind: inEffect, at: at, late: &lateEffect{ev: ev, err: err, took: at.Sub(start)}})
	}()
	return nil, true
}

func (*realDriver) exec(m *machine, id int, argv, env []string) func() {
	return goExec(m, id, argv, env)
}

func (*realDriver) woken(m *machine, _ bool) { m.wakeLoop() }

// earlyWake is how much before a long wait's due time the real driver
// wakes, to finish on a short timer: after an idle wait of seconds the Go
// runtime's timer fires several milliseconds late (golang/go#44343 is of
// that family), while a short timer armed by a running goroutine is on
// time. Waits shorter than earlyAfter are armed as they are.
const (
	earlyWake  = 25 * time.Millisecond
	earlyAfter = 250 * time.Millisecond
)

// armTimer sets the timer for the core's next due time (earlyWake before
// it, for a long wait) and returns its channel, nil when nothing is due.
// A wake before the due time finds nothing due and re-arms for the rest.
func armTimer(m *machine, timer *Timer, armed *time.Time) <-chan time.Time {
	due, kind, i := m.nextItem()
	ok := kind != dueNone
	step := m.signalStep(kind, i)
	if !m.flushAt.IsZero() && (!ok || m.flushAt.Before(due)) {
		due, ok, step = m.flushAt, true, false
	}
	if !ok {
		return nil
	}
	wake := due
	d := due.Sub(m.clock.Now())
	switch {
	case d >= earlyAfter:
		wake = due.Add(-earlyWake)
	case d > finishWindow && step && canFinish(m):
		wake = due.Add(-finishWindow) // finish sleeps the rest
	}
	if *timer == nil {
		*timer = loopTimer(m.clock, wake.Sub(m.clock.Now()), &m.spare)
	} else if !wake.Equal(*armed) {
		if !(*timer).Stop() {
			select { // a custom Clock may have left a value behind
			case <-(*timer).C():
			default:
			}
		}
		(*timer).Reset(wake.Sub(m.clock.Now()))
	}
	*armed = wake
	return (*timer).C()
}

// caught takes a signal read from Config.Signals: into the inbox as
// Deliver would put it (without the wake-up: this is the loop), unless
// Route takes care of it.
func (m *machine) caught(now time.Time, sig os.Signal) {
	name, ok := sig.String(), true
	if m.route != nil {
		name, ok = m.route(sig)
	}
	if !ok {
		return
	}
	m.enqueue(input{kind: inSignal, name: name, at: now})
}

// woke says what ended a wait of the real driver.
type woke struct {
	sig  os.Signal // one read from Config.Signals
	job  bool      // the job's end: exit, ok
	exit Exit
	ok   bool
	exec bool // a command's end: res
	res  execResult
}

// wait blocks until an input, the timer or the context. It is its own
// small frame, and the work is done after it returns, so that a thousand
// engines parked here keep small stacks that do not have to grow (and be
// copied) when they all wake at once.
//
//go:noinline
func (m *machine) wait(ctx context.Context, tick <-chan time.Time) (w woke, fired bool) {
	select {
	case <-m.inbox.wake:
	case w.sig = <-m.sigs:
	case x, ok := <-m.jobDone:
		w.job, w.exit, w.ok = true, x, ok
	case r := <-m.cmds.done:
		w.exec, w.res = true, r
	case <-tick:
		fired = true
	case <-ctx.Done():
	}
	return w, fired
}

// roomyStack is how much stack an engine on a PreciseClock (a
// supervisor's one engine) holds while it waits, so that the pass that
// follows a wake-up never has to grow its stack. Growing it copies the
// stack, which walks every frame through the runtime's function tables:
// after the page trim (internal/resident) that walk alone met some 25
// page faults on the way from the first cancelling signal to the job's
// kill(2). The padding is below the waiting frame, so the garbage
// collector, which halves a stack that uses less than a quarter of it,
// never shrinks it back while the engine waits.
const roomyStack = 8 << 10

// waitRoomy is wait with roomyStack of stack in use below it.
//
//go:noinline
func (m *machine) waitRoomy(ctx context.Context, tick <-chan time.Time) (woke, bool) {
	var pad [roomyStack]byte
	holdStack(&pad)
	return m.wait(ctx, tick)
}

// holdStack keeps its argument, and so the frame that holds it, in use.
//
//go:noinline
func holdStack(*[roomyStack]byte) {}

// quick reports whether e is a signal m's target sends without waiting.
func quick(m *machine, e effect) bool {
	switch {
	case m.quick == nil:
		return false
	case e.kind == effSignal:
		return m.quick.QuickSignal(e.scope)
	case e.kind == effForward:
		return m.quick.QuickSignal(ScopeGroup)
	}
	return false
}

// finishWindow is how long before a step falls due the real driver stops
// waiting for inputs and sleeps to the due time on its own thread
// (finish).
const finishWindow = time.Millisecond

// canFinish reports whether the driver of m may finish its waits with a
// sleep of its own: on a PreciseClock, where one is at hand.
func canFinish(m *machine) bool {
	_, ok := m.clock.(PreciseClock)
	return ok && sleepUntilWorks
}

// signalStep reports whether the item nextItem found (kind, i) is a
// signal step of the timeline.
func (m *machine) signalStep(kind dueKind, i int) bool {
	return kind == dueStep && m.prof.Steps[i].Kind == StepSignal
}

// finish sleeps until the core's next step falls due, when that is at
// most finishWindow away and no input is waiting, and reports whether it
// did. The kernel then wakes this goroutine's thread itself at the due
// time, where a timer's expiry goes through the runtime's poller, a
// goroutine and a channel, each of which may wake another thread before
// the step is taken (130 to 200 µs here). An input that arrives during
// the sleep waits for the step and is taken right after it. Only signal
// steps: the deadline, a command's cut-off and other steps (a command,
// a notification) are not held to the microsecond, and a job's end that
// comes just before them must be taken first, not after them.
func finish(m *machine) bool {
	if !canFinish(m) {
		return false
	}
	due, kind, i := m.nextItem()
	if !m.signalStep(kind, i) {
		return false
	}
	d := due.Sub(m.clock.Now())
	if d <= 0 || d > finishWindow {
		return false
	}
	if len(m.sigs) > 0 || len(m.jobDone) > 0 || len(m.cmds.done) > 0 || len(m.inbox.wake) > 0 {
		return false
	}
	sleepUntil(d)
	finishes.Add(1)
	return true
}

// finishes counts the sleeps of finish, for tests.
var finishes atomic.Int64

// finishRoomy is finish with roomyStack of stack in use below it, as
// waitRoomy: the step after the sleep must not grow the stack either.
//
//go:noinline
func (m *machine) finishRoomy() bool {
	var pad [roomyStack]byte
	holdStack(&pad)
	return finish(m)
}
