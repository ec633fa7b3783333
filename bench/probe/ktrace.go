//go:build linux

package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// sigTrace records when the kernel generated each SIGTERM and SIGKILL, and
// for which process, from the signal:signal_generate tracepoint in a
// tracefs instance of the probe's own (its own buffer and filter, beside
// any other tracer). The times are the kernel's CLOCK_MONOTONIC at the
// moment of the kill(2), so that a supervisor's escalation is measured
// where it happens, apart from the job's death and from the wake-up of
// whoever watches it. Needs root and tracefs.
type sigTrace struct {
	dir       string
	pipe      *os.File
	closeOnce sync.Once

	mu   sync.Mutex
	sent map[[2]int][]int64 // {signal, pid} -> times in ns, in order
}

// openSigTrace starts the trace, or says why it cannot.
func openSigTrace() (*sigTrace, error) {
	var root string
	for _, r := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		if _, err := os.Stat(filepath.Join(r, "instances")); err == nil {
			root = r
			break
		}
	}
	if root == "" {
		return nil, errors.New("no tracefs (mount it on /sys/kernel/tracing)")
	}
	removeStaleTraces(filepath.Join(root, "instances"))
	t := &sigTrace{dir: filepath.Join(root, "instances", fmt.Sprintf("probe-%d", os.Getpid())), sent: map[[2]int][]int64{}}
	if err := os.Mkdir(t.dir, 0o755); err != nil {
		return nil, err
	}
	// A probe that fails, or is interrupted, removes its instance too.
	atExit(t.close)
	ev := filepath.Join(t.dir, "events", "signal", "signal_generate")
	for _, w := range [][2]string{
		{filepath.Join(t.dir, "trace_clock"), "mono"},
		{filepath.Join(ev, "filter"), "sig == 9 || sig == 15"},
		{filepath.Join(ev, "enable"), "1"},
	} {
		if err := os.WriteFile(w[0], []byte(w[1]), 0); err != nil {
			t.close()
			return nil, err
		}
	}
	// Non-blocking, so that the runtime's poller reads it and close ends
	// the reader.
	f, err := os.OpenFile(filepath.Join(t.dir, "trace_pipe"), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.close()
		return nil, err
	}
	t.pipe = f
	go t.read()
	return t, nil
}

// read parses lines such as
//
//	sh-123 [001] d..2. 30010.577942: signal_generate: sig=9 errno=0 code=0 comm=sleep pid=2792 grp=1 res=0
func (t *sigTrace) read() {
	sc := bufio.NewScanner(t.pipe)
	for sc.Scan() {
		line := sc.Text()
		head, body, ok := strings.Cut(line, ": signal_generate: ")
		if !ok {
			continue
		}
		ts, ok := parseTraceTime(head[strings.LastIndexByte(head, ' ')+1:])
		if !ok {
			continue
		}
		var sig, pid int
		for _, f := range strings.Fields(body) {
			if v, ok := strings.CutPrefix(f, "sig="); ok {
				sig, _ = strconv.Atoi(v)
			} else if v, ok := strings.CutPrefix(f, "pid="); ok {
				pid, _ = strconv.Atoi(v)
			}
		}
		t.mu.Lock()
		k := [2]int{sig, pid}
		t.sent[k] = append(t.sent[k], ts)
		t.mu.Unlock()
	}
}

// parseTraceTime reads "30010.577942" (seconds, microseconds) as ns.
func parseTraceTime(s string) (int64, bool) {
	sec, frac, ok := strings.Cut(s, ".")
	if !ok || len(frac) == 0 || len(frac) > 9 {
		return 0, false
	}
	a, err1 := strconv.ParseInt(sec, 10, 64)
	b, err2 := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return a*1e9 + b, true
}

// first returns the time of the first sig sent to pid at or after from
// (ns), waiting up to wait for the trace to bring it.
func (t *sigTrace) first(sig, pid int, from int64, wait time.Duration) (int64, bool) {
	deadline := time.Now().Add(wait)
	for {
		t.mu.Lock()
		for _, ts := range t.sent[[2]int{sig, pid}] {
			if ts >= from {
				t.mu.Unlock()
				return ts, true
			}
		}
		t.mu.Unlock()
		if time.Now().After(deadline) {
			return 0, false
		}
		time.Sleep(time.Millisecond)
	}
}

// close stops the trace and removes the instance. It may be called again.
func (t *sigTrace) close() {
	t.closeOnce.Do(t.doClose)
}

func (t *sigTrace) doClose() {
	_ = os.WriteFile(filepath.Join(t.dir, "events", "signal", "signal_generate", "enable"), []byte("0"), 0)
	if t.pipe != nil {
		_ = t.pipe.Close()
	}
	// The instance is busy until the reader's descriptor is gone.
	for i := 0; i < 100; i++ {
		if err := os.Remove(t.dir); err == nil || os.IsNotExist(err) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// removeStaleTraces removes the instances of probes that are gone (killed
// before they could remove their own), which would otherwise go on
// recording every SIGTERM and SIGKILL.
func removeStaleTraces(instances string) {
	ents, _ := os.ReadDir(instances)
	for _, e := range ents {
		v, ok := strings.CutPrefix(e.Name(), "probe-")
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(v)
		if err != nil || pid == os.Getpid() || syscall.Kill(pid, 0) == nil {
			continue
		}
		_ = os.Remove(filepath.Join(instances, e.Name()))
	}
}
