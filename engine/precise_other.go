//go:build !linux

package engine

import "time"

// newKernelTimer has no kernel timer to offer here: Run falls back to the
// runtime timer.
func newKernelTimer() Timer { return nil }

// sleepUntilWorks says there is no sleep of the thread's own here: the
// real driver waits on its timer to the end.
const sleepUntilWorks = false

func sleepUntil(d time.Duration) { time.Sleep(d) }
