package engine

import (
	"context"
	"time"
)

// virtualDriver is the discrete-event driver of a *VirtualClock: the same
// core as the real driver, but instead of waiting for a timer it moves the
// virtual clock straight to the next due time. At any instant, functions
// scheduled on the clock (a simulated job's exit, an injected signal) run
// first, then ready inputs, then the core's own items; so one set of inputs
// always gives one sequence of events. Effects run inline: a simulated
// target answers at once, and virtual time cannot bound a real one.
type virtualDriver struct{ vc *VirtualClock }

func (c *VirtualClock) driver() driver { return virtualDriver{c} }

func (d virtualDriver) run(m *machine, ctx context.Context) Result {
	vc := d.vc
	m.begin(ctx, vc.Now())
	for !m.pass(ctx, vc.Now()) {
		if m.cmds.running == 0 {
			due, ok := m.nextDue()
			if at, vok := vc.next(); vok && (!ok || !at.After(due)) {
				vc.fireNext(at)
				continue
			}
			if ok {
				vc.advanceTo(due)
				continue
			}
		}
		// Nothing scheduled, or an Exec on a goroutine still running: wait
		// for an input from outside as the real driver would.
		select {
		case <-m.inbox.wake:
		case x, ok := <-m.jobDone:
			m.jobStopped(vc.Now(), x, ok)
		case r := <-m.cmds.done:
			m.execDone(vc.Now(), r)
		case <-ctx.Done():
		}
	}
	// Cut commands that are already in (virtual cancellation sends them
	// at once); real Exec goroutines are not waited for, since virtual
	// time cannot bound them.
	m.collectCut(0)
	return m.res
}

func (virtualDriver) do(m *machine, _ time.Time, e effect, _ what) (error, bool) {
	return e.perform(m.target), false
}

// exec asks a simulated target how long the command takes and schedules
// its end on the clock; any other target's Exec runs on a goroutine.
func (d virtualDriver) exec(m *machine, id int, argv, env []string) func() {
	se, ok := m.target.(SimulatedExec)
	if !ok {
		return goExec(m, id, argv, env)
	}
	ch := m.cmds.done
	took, err := se.SimulateExec(argv, env)
	t := d.vc.AfterFunc(took, func() { ch <- execResult{id: id, err: err} })
	return func() {
		if t.Stop() {
			ch <- execResult{id: id, err: context.Canceled}
		}
	}
}

func (virtualDriver) woken(m *machine, _ bool) { m.wakeLoop() }
