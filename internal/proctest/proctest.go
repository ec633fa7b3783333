//go:build linux

// Package proctest finds the processes a test (or a benchmark) left behind.
//
// A test puts a unique NAME=value marker in its job's environment; every
// descendant inherits it, whatever process group or session it moves to, so
// a scan of /proc finds them all. Linux only.
package proctest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Live lists the live processes, other than the caller, whose environment
// holds marker (a NAME=value string) as a whole entry. Zombies are not live:
// they are gone, waiting for their parent to reap them.
func Live(marker string) []int {
	want := []byte(marker + "\x00")
	self := os.Getpid()
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(env, want) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		// The state follows the command name, which may hold ") ".
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// LiveAfter is Live once the marked processes had up to d to finish dying.
func LiveAfter(marker string, d time.Duration) []int {
	deadline := time.Now().Add(d)
	for {
		left := Live(marker)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// AssertNoneLeft fails t if a process with marker is still alive after
// grace (time for SIGKILLed ones to be gone), naming each with its command
// line, and kills them so one failing test does not leak into the next.
func AssertNoneLeft(t testing.TB, marker string, grace time.Duration) {
	t.Helper()
	left := LiveAfter(marker, grace)
	if len(left) == 0 {
		return
	}
	desc := make([]string, 0, len(left))
	for _, pid := range left {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		desc = append(desc, fmt.Sprintf("%d %s", pid, strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))))
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	t.Errorf("%d processes left behind:\n%s", len(left), strings.Join(desc, "\n"))
}

// ExecutableForAll copies the running test binary into a directory of its
// own that every user may enter, so that a test can run it as another uid
// (go test's own build directory is private). The copy goes when the test
// ends.
func ExecutableForAll(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "gtest-exe")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	exe, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// LiveAtLeast counts the live processes with marker until there are at
// least want, for at most d, and returns the last count. One count alone
// can miss a process that is in the middle of execve: its environment is
// empty in /proc until the new program's stack is set up (a tree test
// counted 100 of 101 now and then on a loaded machine).
func LiveAtLeast(marker string, want int, d time.Duration) int {
	deadline := time.Now().Add(d)
	for {
		got := len(Live(marker))
		if got >= want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}
