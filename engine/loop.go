package engine

import (
	"context"
	"time"
)

// cutWait bounds how long Run waits, after the end, for commands it cut
// off to return, so that a killed finalisation is reaped before graceful
// exits but a runner that never returns cannot hold the exit.
const cutWait = 250 * time.Millisecond

// run is the driver on a real (or externally driven) clock: one goroutine,
// one timer re-armed to the core's next due time, and a select over every
// input. The core decides; this only waits.
func (m *machine) run(ctx context.Context) Result {
	if !m.used.CompareAndSwap(false, true) {
		panic("engine: Run called twice")
	}
	if m.shared != nil {
		return m.runShared(ctx)
	}
	m.begin(ctx, m.clock.Now())
	if m.vclock != nil {
		return m.runVirtual(ctx)
	}
	var (
		timer Timer
		armed time.Time // due time the timer is set for; zero when idle
	)
	now := m.start
	for {
		m.step(now)
		if m.finished {
			break
		}
		if ctx.Err() != nil {
			m.end(now, EventExit, "context: "+context.Cause(ctx).Error())
			break
		}
		var tick <-chan time.Time
		if due, ok := m.nextDue(); ok {
			if timer == nil {
				timer = m.clock.NewTimer(due.Sub(m.clock.Now()))
			} else if !due.Equal(armed) {
				if !timer.Stop() {
					select { // a custom Clock may have left a value behind
					case <-timer.C():
					default:
					}
				}
				timer.Reset(due.Sub(m.clock.Now()))
			}
			armed = due
			tick = timer.C()
		}
		select {
		case <-m.wake:
		case x, ok := <-m.jobDone:
			m.jobStopped(m.clock.Now(), x, ok)
		case r := <-m.execCh:
			m.execDone(m.clock.Now(), r)
		case <-tick:
			armed = time.Time{}
		case <-ctx.Done():
		}
		now = m.clock.Now()
	}
	if timer != nil {
		timer.Stop()
	}
	m.awaitCut()
	return m.res
}

// awaitCut waits, at most cutWait, for commands cut off at the end.
func (m *machine) awaitCut() {
	if m.realExecs == 0 {
		return
	}
	t := m.clock.NewTimer(cutWait)
	defer t.Stop()
	for m.realExecs > 0 {
		select {
		case r := <-m.execCh:
			if r.real {
				m.realExecs--
			}
			m.execs[r.id].running = false
		case <-t.C():
			return
		}
	}
}
