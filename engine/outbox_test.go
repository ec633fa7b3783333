package engine_test

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graceful-sh/graceful/engine"
)

// gate is a writer that blocks until opened, like a pipe nobody reads.
type gate struct {
	open chan struct{}
	mu   sync.Mutex
	buf  bytes.Buffer
	err  error
}

func (g *gate) Write(p []byte) (int, error) {
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return 0, g.err
	}
	return g.buf.Write(p)
}

func (g *gate) String() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.String()
}

// A stalled reader: writes return at once, what does not fit is dropped
// and counted, and the count is said once the reader is back.
func TestOutboxStalledReader(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	o := engine.NewOutbox(g, 100)
	line := strings.Repeat("x", 19) + "\n" // 20 bytes
	done := make(chan struct{})
	go func() {
		for range 10 {
			o.Write([]byte(line))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Write blocked on a stalled writer")
	}
	// The first line is being written (blocked in the gate), at most
	// 100 bytes queued: at least four lines lost.
	if lost := o.Lost(); lost < 4 || lost > 6 {
		t.Errorf("lost %d lines, want 4 to 6", lost)
	}
	if o.Close(50*time.Millisecond, engine.LostNote("stderr")) {
		t.Error("Close reported everything written while the writer is stalled")
	}
	close(g.open)
	lost := o.Lost()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(g.String(), "of output lost") {
		if time.Now().After(deadline) {
			t.Fatalf("no note of lost lines once the reader was back; got %q", g.String())
		}
		time.Sleep(time.Millisecond)
	}
	out := g.String()
	if got := strings.Count(out, line); got != 10-lost {
		t.Errorf("%d lines written, want %d (10 less %d lost)", got, 10-lost, lost)
	}
	if !strings.HasSuffix(out, "graceful: "+strconv.Itoa(lost)+" lines of output lost (stderr was not being read)\n") {
		t.Errorf("output ends %q", out[max(0, len(out)-80):])
	}
}

// A writer that fails (a full disk) gets nothing more; Close does not
// wait and writes no note to it.
func TestOutboxFailingWriter(t *testing.T) {
	g := &gate{open: make(chan struct{}), err: errors.New("no space left on device")}
	close(g.open)
	o := engine.NewOutbox(g, 0)
	o.Write([]byte("a\n"))
	deadline := time.Now().Add(10 * time.Second)
	for o.Err() == nil {
		if time.Now().After(deadline) {
			t.Fatal("the write error was never recorded")
		}
		time.Sleep(time.Millisecond)
	}
	o.Write([]byte("b\nc\n"))
	if !o.Close(time.Second, engine.LostNote("events")) {
		t.Error("Close waited on a failed writer")
	}
	if o.Lost() != 3 {
		t.Errorf("lost %d lines, want 3", o.Lost())
	}
}
