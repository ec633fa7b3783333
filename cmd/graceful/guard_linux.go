//go:build linux

package main

import (
	"github.com/graceful-sh/graceful/engine/process"
	"github.com/graceful-sh/graceful/internal/resident"
)

// guardian reports whether this process was started as the guardian of a
// job's cgroup leaf (process.StartGuardian) and returns its main.
func guardian(args []string) (func() int, bool) {
	if len(args) < 2 || args[1] != process.GuardArg {
		return nil, false
	}
	return func() int {
		resident.Trim() // it only waits: give back the start-up pages at once
		return process.Guard(args[2:])
	}, true
}
