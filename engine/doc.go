// Package engine interprets a cancellation Profile against a job.
//
// A Profile says what incoming signals mean (drain, cancel, exit, forward,
// ignore, counted per delivery) and what happens once cancellation starts
// at t0: steps at offsets from t0 (send a signal, run a command, notify
// the job, abandon it), a deadline that ends everything, and a
// finalisation command that runs once the job has stopped. Package
// policies builds Profiles from HCL files; the engine knows nothing of
// HCL, of Linux or of processes.
//
// The job is a Target: package process implements it for a local process
// tree, package kubernetes for job containers reached over a socket, and
// package sim for simulated jobs. New builds an Engine from a Config (the
// profile, the target, a Clock and event Sinks); Run drives it until the
// outcome is decided and finalisation is over, and returns a Result with
// the exit status graceful would exit with. Deliver and Cancel feed it
// from any goroutine.
//
// Inside, a looplab/fsm machine is built from the profile at New (its
// states and events come from the steps, see Transitions). A pure core
// decides what each input and each due time means; a driver chosen by the
// Clock feeds it and carries out its effects:
//
//   - RealClock (and any Clock of yours): one goroutine and one timer per
//     engine; effects run on goroutines, so a slow target or sink never
//     holds up the next step or the deadline. A pass's events reach the
//     sinks after its effects are out.
//   - PreciseClock: RealClock with the engine's due times on a kernel
//     timer (a timerfd on Linux), within about 0.1 ms instead of up to
//     1 ms late; what graceful run, join and the coordinator use.
//   - SharedClock: thousands of engines in one process, one heap, few
//     wake-ups; targets must answer quickly.
//   - VirtualClock: discrete-event time; a whole timeline runs instantly
//     and deterministically (graceful simulate, tests).
//
// Every transition and action is an Event for the Sinks (NewTextSink,
// NewJSONSink, NewStatusLine); put sinks that write to files or terminals
// behind an Outbox, which drops and counts lines rather than block.
//
// For running one local job in one call, see process.Run; for the whole
// lifecycle of a supervising process (signals, start, run, cleanup), see
// package supervise. docs/timeline.md describes the semantics state by
// state.
package engine
