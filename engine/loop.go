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
	return m.runReal(ctx)
}

// woke says what ended a wait of the real driver.
type woke struct {
	job  bool // the job's end: exit, ok
	exit Exit
	ok   bool
	exec bool // a command's end: res
	res  execResult
}

func (m *machine) runReal(ctx context.Context) Result {
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
		w, fired := m.wait(ctx, m.arm(&timer, &armed))
		if fired {
			armed = time.Time{}
		}
		now = m.clock.Now()
		switch {
		case w.job:
			m.jobStopped(now, w.exit, w.ok)
		case w.exec:
			m.execDone(now, w.res)
		}
	}
	if timer != nil {
		timer.Stop()
	}
	m.awaitCut()
	return m.res
}

// arm sets the timer for the core's next due time and returns its channel,
// nil when nothing is due.
func (m *machine) arm(timer *Timer, armed *time.Time) <-chan time.Time {
	due, ok := m.nextDue()
	if !ok {
		return nil
	}
	if *timer == nil {
		*timer = m.clock.NewTimer(due.Sub(m.clock.Now()))
	} else if !due.Equal(*armed) {
		if !(*timer).Stop() {
			select { // a custom Clock may have left a value behind
			case <-(*timer).C():
			default:
			}
		}
		(*timer).Reset(due.Sub(m.clock.Now()))
	}
	*armed = due
	return (*timer).C()
}

// wait blocks until an input, the timer or the context. It is its own
// small frame, and the work is done after it returns, so that a thousand
// engines parked here keep small stacks that do not have to grow (and be
// copied) when they all wake at once.
//
//go:noinline
func (m *machine) wait(ctx context.Context, tick <-chan time.Time) (w woke, fired bool) {
	select {
	case <-m.wake:
	case x, ok := <-m.jobDone:
		w.job, w.exit, w.ok = true, x, ok
	case r := <-m.execCh:
		w.exec, w.res = true, r
	case <-tick:
		fired = true
	case <-ctx.Done():
	}
	return w, fired
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
