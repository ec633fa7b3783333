//go:build !linux

package engine

import "time"

// newKernelTimer has no kernel timer to offer here: Run falls back to the
// runtime timer.
func newKernelTimer(time.Duration) Timer { return nil }
