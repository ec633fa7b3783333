package engine

import (
	"context"
	"time"
)

// A driver runs a machine's loop on one kind of clock: it feeds the core
// the current time and the inputs, sleeps until the next due time, and
// carries out the effects the core asks for. There is one per kind of
// clock, each in a file of its own:
//
//	driver_real.go     any Clock: one timer per engine, effects on goroutines
//	driver_virtual.go  a *VirtualClock: discrete-event time, effects inline
//	driver_shared.go   a *SharedClock: one heap for many engines
type driver interface {
	// run drives m from Run's goroutine until the run is over.
	run(m *machine, ctx context.Context) Result
	// do carries out an effect for the core. It returns the target's
	// answer, or pending when the answer is not in yet: it then comes
	// back later as an inEffect input carrying ev.
	do(m *machine, now time.Time, e effect, ev what) (err error, pending bool)
	// exec starts command id of m and returns the function that cuts it
	// off; its end comes back on m.cmds.done.
	exec(m *machine, id int, argv, env []string) (cancel func())
	// woken is called after an input was added to m's inbox.
	woken(m *machine, urgent bool)
}

// drivingClock is a Clock that comes with a driver of its own. A Clock
// without one (RealClock, or any custom Clock) gets the real driver.
type drivingClock interface {
	Clock
	driver() driver
}

func driverFor(c Clock) driver {
	if dc, ok := c.(drivingClock); ok {
		return dc.driver()
	}
	return &realDriver{}
}

// pass takes a pass of the core at now (step) and reports whether the run
// is over: the machine finished, or ctx ended, which ends the run as the
// dead-man's switch would. The real and the virtual driver loop on it.
func (m *machine) pass(ctx context.Context, now time.Time) bool {
	m.step(now)
	if m.finished() {
		return true
	}
	if ctx.Err() != nil {
		m.end(now, EventExit, contextCause(ctx))
		return true
	}
	return false
}

// contextCause is the cause of a run ended by its context.
func contextCause(ctx context.Context) string {
	return "context: " + context.Cause(ctx).Error()
}

// cutWait bounds how long Run waits, after the end, for commands it cut
// off to return, so that a killed finalisation is reaped before graceful
// exits but a runner that never returns cannot hold the exit.
const cutWait = 250 * time.Millisecond

// goExec runs target.Exec on a goroutine of its own, the way every driver
// runs a real command, and returns the function that cuts it off.
func goExec(m *machine, id int, argv, env []string) func() {
	ctx, cancel := context.WithCancel(m.ctx)
	m.cmds.running++
	target, ch := m.target, m.cmds.done
	go func() {
		err := target.Exec(ctx, argv, env)
		cancel()
		ch <- execResult{id: id, err: err, real: true}
	}()
	return cancel
}

// collectCut takes the ends of cut commands that are already in, and waits
// at most wait for the rest (zero: not at all), so that a killed
// finalisation is reaped before graceful exits but a runner that never
// returns cannot hold the exit.
func (m *machine) collectCut(wait time.Duration) {
	var tick <-chan time.Time // nil until the first wait: never ready
	for m.cmds.done != nil {
		var r execResult
		select {
		case r = <-m.cmds.done:
		default:
			if m.cmds.running == 0 || wait <= 0 {
				return
			}
			if tick == nil {
				t := m.clock.NewTimer(wait)
				defer t.Stop()
				tick = t.C()
			}
			select {
			case r = <-m.cmds.done:
			case <-tick:
				return
			}
		}
		if r.real {
			m.cmds.running--
		}
		m.cmds.list[r.id].running = false
	}
}
