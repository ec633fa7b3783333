package engine

import (
	"bytes"
	"io"
	"strconv"
	"sync"
	"time"
)

// Outbox is an io.Writer that never blocks its caller: Write copies the
// bytes into a bounded queue and one goroutine of the Outbox writes them
// out, in order, to the underlying writer. When the queue is full (the
// reader stopped: a terminal paused with Ctrl-S, a pipe nobody reads, a
// full disk), Write drops the bytes and counts them; Close says once how
// many lines were lost.
//
// Put sinks that write to files or terminals behind an Outbox (the text and
// JSON sinks, a StatusLine): then a slow reader loses lines, never time.
// Writes of several engines sharing an Outbox keep their order and do not
// interleave within a Write.
type Outbox struct {
	w   io.Writer
	max int

	mu      sync.Mutex
	queue   [][]byte
	queued  int // bytes in queue
	busy    bool
	closed  bool
	lost    int       // lines dropped
	err     error     // the first write error
	since   time.Time // when the write under way began; zero when none
	flushed chan struct{}
}

// OutboxSize is the queue's default bound, in bytes: a few thousand event
// lines, far more than a run writes unless its reader has stopped.
const OutboxSize = 256 << 10

// NewOutbox returns an Outbox writing to w with a queue of at most max
// bytes (OutboxSize when max <= 0). Its goroutine starts with the first
// Write.
func NewOutbox(w io.Writer, max int) *Outbox {
	if max <= 0 {
		max = OutboxSize
	}
	return &Outbox{w: w, max: max}
}

// Write queues p and returns len(p), nil. It never blocks on the
// underlying writer. Bytes that do not fit are dropped and counted as
// lines (a Write without a newline counts as one).
func (o *Outbox) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.closed || o.err != nil || o.queued+len(p) > o.max:
		o.lost += lines(p)
		return len(p), nil
	}
	o.queue = append(o.queue, append([]byte(nil), p...))
	o.queued += len(p)
	if !o.busy {
		o.busy = true
		go o.drain()
	}
	return len(p), nil
}

func lines(p []byte) int { return max(bytes.Count(p, []byte{'\n'}), 1) }

// drain writes the queue out until it is empty.
func (o *Outbox) drain() {
	for {
		o.mu.Lock()
		if len(o.queue) == 0 {
			o.busy = false
			if o.flushed != nil {
				close(o.flushed)
				o.flushed = nil
			}
			o.mu.Unlock()
			return
		}
		p := o.queue[0]
		o.queue[0] = nil
		o.queue = o.queue[1:]
		o.since = time.Now()
		o.mu.Unlock()

		_, err := o.w.Write(p)

		o.mu.Lock()
		o.since = time.Time{}
		o.queued -= len(p)
		if err != nil && o.err == nil {
			// A writer that failed once (EPIPE, ENOSPC) gets nothing
			// more: what is left and what comes is lost.
			o.err = err
			o.lost += lines(p)
			for _, q := range o.queue {
				o.lost += lines(q)
			}
			o.queue, o.queued = nil, 0
		}
		o.mu.Unlock()
	}
}

// Lost returns the number of lines dropped so far.
func (o *Outbox) Lost() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lost
}

// Err returns the first error of the underlying writer, if any.
func (o *Outbox) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// Close stops taking writes and waits at most wait for the queue to be
// written out. When lines were lost and the writer still works, it first
// queues one note saying how many, written as note(lost) returns it (nil
// note: no such line). It reports whether everything queued was written.
// Later Writes are dropped and counted; Close may be called again.
func (o *Outbox) Close(wait time.Duration, note func(lost int) string) bool {
	o.mu.Lock()
	if !o.closed && o.lost > 0 && o.err == nil && note != nil {
		line := note(o.lost)
		o.queue = append(o.queue, []byte(line))
		o.queued += len(line)
		if !o.busy {
			o.busy = true
			go o.drain()
		}
	}
	o.closed = true
	if !o.busy {
		o.mu.Unlock()
		return true
	}
	if !o.since.IsZero() && time.Since(o.since) >= wait {
		// One write has been stuck for longer than we would wait: the
		// reader has stopped, and waiting would only delay the exit.
		o.mu.Unlock()
		return false
	}
	if o.flushed == nil {
		o.flushed = make(chan struct{})
	}
	done := o.flushed
	o.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// LostNote is the usual note for Close: "graceful: N lines of output lost
// (WHAT was not being read)\n".
func LostNote(what string) func(int) string {
	return func(n int) string {
		unit := " lines"
		if n == 1 {
			unit = " line"
		}
		return "graceful: " + strconv.Itoa(n) + unit + " of output lost (" + what + " was not being read)\n"
	}
}
