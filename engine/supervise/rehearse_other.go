//go:build !linux

package supervise

import "github.com/graceful-sh/graceful/engine"

// rehearse readies the first cancel's path in the engine (see the Linux
// version).
func rehearse(eng *engine.Engine, _ bool, _ Plan) { eng.Rehearse() }
