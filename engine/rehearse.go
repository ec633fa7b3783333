package engine

import (
	"context"
	"slices"
)

// Rehearse takes the path the first cancelling signal would take through
// e, on a copy of e's machine that acts on nothing, and returns once it
// has: the code and data of that path are then in memory when a real
// signal comes.
//
// A long-lived supervisor mostly waits, and graceful gives back the pages
// of its executable 200 ms into a run (internal/resident); the first
// cancel then met some forty page faults on its way to the job, and even
// before that, a path nothing had taken yet met a dozen. A rehearsal after
// each costs a fraction of a millisecond off the timeline and keeps only
// the pages the path touches.
//
// The copy begins now and receives the profile's cancelling signal
// (SIGTERM, when a delivery of it cancels, drains or exits) until it is
// cancelled or done, doing what is due at once each time: the
// transitions and the steps at offset zero. Its signals go to the
// target as RehearseSignal when the target is a Rehearser (and the scope
// quick), and nowhere otherwise. It has no sinks and is never run. e
// itself is not touched, but for one thing made ready: on a PreciseClock,
// the kernel timer Run's loop will wait on once a step is due (see
// spareTimer), unless the loop has one already or Run is over. Rehearse
// may be called from any goroutine, during Run. It does nothing for a
// profile without such a trigger.
func (e *Engine) Rehearse() {
	m := e.impl
	sig := firstCancelling(m.prof)
	if sig == "" {
		return
	}
	m.spare.prepare(m.clock)
	clock := m.clock
	if _, ok := clock.(drivingClock); ok {
		clock = RealClock{} // the copy must not join a shared or virtual clock's loop
	}
	twin, err := newMachine(Config{Profile: m.prof, Target: rehearsal{m.target}, Clock: clock})
	if err != nil {
		return
	}
	now := m.clock.Now()
	ctx := context.Background()
	twin.begin(ctx, now)
	// Up to the first cancellation: a profile whose first signal drains
	// cancels on a later one.
	for range maxRehearsed {
		twin.deliver(sig)
		if twin.pass(ctx, now) || twin.cancelled {
			return
		}
	}
}

// maxRehearsed bounds the deliveries of a rehearsal.
const maxRehearsed = 4

// firstCancelling returns the signal whose deliveries rehearse a cancel:
// SIGTERM if one of its deliveries cancels, drains or exits, else the
// first such signal by name; "" when there is none.
func firstCancelling(p *Profile) string {
	var names []string
	for sig, acts := range p.Triggers {
		if slices.ContainsFunc(acts, func(a Action) bool {
			return a == ActionCancel || a == ActionDrain || a == ActionExit
		}) {
			names = append(names, sig)
		}
	}
	if len(names) == 0 {
		return ""
	}
	if slices.Contains(names, "SIGTERM") {
		return "SIGTERM" // what a runner's cancel almost always is
	}
	slices.Sort(names)
	return names[0]
}

// rehearsal is the twin's target: quick, so that the driver performs its
// signals inline as it would the real ones, and inert.
type rehearsal struct{ real Target }

func (r rehearsal) QuickSignal(Scope) bool { return true }

func (r rehearsal) Signal(_ string, scope Scope) error {
	if q, ok := r.real.(Rehearser); ok && q.QuickSignal(scope) {
		return q.RehearseSignal(scope)
	}
	return nil
}

func (r rehearsal) Forward(string) error                         { return r.Signal("", ScopeGroup) }
func (rehearsal) Notify(string) error                            { return nil }
func (rehearsal) Abandon() error                                 { return nil }
func (rehearsal) Done() <-chan Exit                              { return nil }
func (rehearsal) Exec(context.Context, []string, []string) error { return nil }
