package supervise

import (
	"os"
	"syscall"

	"github.com/graceful-sh/graceful/engine"
)

// rehearse readies the first cancel's path (engine.Engine.Rehearse). For
// a run that signals cancel (bySignal: the Plan catches some), the
// runtime's part first, with a SIGCHLD sent to this process, which goes
// through the Go runtime's signal handler and os/signal as any caught
// signal does, and which nothing here acts on beyond a look for zombies
// (the orphan reaper's, when it runs; any other handler of SIGCHLD must
// expect a spurious one, as SIGCHLDs merge anyway). Then the Plan's look
// at the signal on its way to the engine (route), which has no effect for
// a signal the engine takes and which the copy below does not take (the
// code page it sits on faulted in every first cancel after the page
// trim). Then the engine's, on a copy of the machine, down to a kill(2)
// with signal 0 to the job.
func rehearse(eng *engine.Engine, bySignal bool, p Plan) {
	if bySignal {
		_ = syscall.Kill(os.Getpid(), syscall.SIGCHLD)
		_ = p.handlingOf(Name(syscall.SIGTERM))
	}
	eng.Rehearse()
}
