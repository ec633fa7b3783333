package engine

import "context"

// runVirtual is the discrete-event driver: the same core as run, but instead
// of waiting for a timer it moves the virtual clock straight to the next due
// time. At any instant, functions scheduled on the clock (a simulated job's
// exit, an injected signal) run first, then ready inputs, then the core's
// own items; so one set of inputs always gives one sequence of events.
func (m *machine) runVirtual(ctx context.Context) Result {
	vc := m.vclock
	for {
		now := vc.Now()
		m.step(now)
		if m.finished {
			break
		}
		if ctx.Err() != nil {
			m.end(now, EventExit, "context: "+context.Cause(ctx).Error())
			break
		}
		if m.realExecs == 0 {
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
		case <-m.wake:
		case x, ok := <-m.jobDone:
			m.jobStopped(vc.Now(), x, ok)
		case r := <-m.execCh:
			m.execDone(vc.Now(), r)
		case <-ctx.Done():
		}
	}
	m.awaitCutVirtual()
	return m.res
}

// awaitCutVirtual collects the results of cut commands that are already in
// (virtual cancellation sends them at once); real Exec goroutines are not
// waited for, since virtual time cannot bound them.
func (m *machine) awaitCutVirtual() {
	for m.execCh != nil {
		select {
		case r := <-m.execCh:
			if r.real {
				m.realExecs--
			}
			m.execs[r.id].running = false
		default:
			return
		}
	}
}
