package main

import (
	"io"

	"github.com/graceful-sh/graceful/engine/supervise"
)

// pipeSafe is a writer to graceful's own stdout or stderr that catches
// SIGPIPE (supervise.SurviveEPIPE) before its first write. The runtime kills the
// process only when a write to fd 1 or 2 fails with EPIPE, so a run that
// writes nothing (most of them) never pays for catching it: each newly
// caught signal is a round trip to the runtime's signal-mask thread.
type pipeSafe struct{ w io.Writer }

func (p pipeSafe) Write(b []byte) (int, error) {
	supervise.SurviveEPIPE()
	return p.w.Write(b)
}
