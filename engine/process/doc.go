//go:build linux

// Package process is the Linux runner of graceful: it starts a job as a
// process tree and implements engine.Target on it.
//
// The job runs in a process group of its own. Signals to the group are sent
// only while the group's leader is known to be unreaped, so a recycled
// process group id is never signalled. The tree scope (the group plus every
// descendant that left it with setsid or a double fork) is tracked with a
// cgroup v2 leaf where the machine allows it, and otherwise with
// PR_SET_CHILD_SUBREAPER and a sweep of /proc repeated until nothing new
// appears. Close kills whatever is left, so nothing of the job outlives the
// runner. See docs/process.md for the design and its limits.
package process
