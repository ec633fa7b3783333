//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/graceful-sh/graceful/engine"
)

// outputWait bounds how long graceful waits at its exit for its own
// output to be written: a reader that stopped (a terminal paused with
// Ctrl-S, a pipe nobody reads) must not hold the exit, which the timeline
// has already timed.
const outputWait = 250 * time.Millisecond

// outputs are what a supervising graceful writes itself: stderr and the
// --events destination, each behind an engine.Outbox so that no write can
// block the timeline. close flushes them, within outputWait each, and says
// how many lines were lost.
type outputs struct {
	stderr     *engine.Outbox
	events     *engine.Outbox
	eventsName string
	eventsFile *os.File // nil for stdout
	once       sync.Once
}

func newOutputs() *outputs {
	return &outputs{stderr: engine.NewOutbox(pipeSafe{os.Stderr}, 0)}
}

// openEvents opens the --events destination ("-": stdout) behind an
// Outbox of its own.
func (o *outputs) openEvents(name string) (io.Writer, error) {
	var w io.Writer = pipeSafe{os.Stdout}
	if name != "-" {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("--events: %w", err)
		}
		o.eventsFile, w = f, f
	}
	o.eventsName = name
	o.events = engine.NewOutbox(w, 0)
	return o.events, nil
}

// close writes out what is queued, within outputWait in all, and reports lost lines
// once: those of --events on stderr, those of stderr on stderr itself when
// it can still be written. It may be called more than once.
func (o *outputs) close() {
	o.once.Do(func() {
		// One budget for both: together they never hold the exit longer.
		end := time.Now().Add(outputWait)
		if o.events != nil {
			flushed := o.events.Close(outputWait, nil)
			lost, err := o.events.Lost(), o.events.Err()
			switch {
			case err != nil:
				fmt.Fprintf(o.stderr, "graceful: --events %s: %v (%d lines lost)\n", o.eventsName, err, lost)
			case lost > 0:
				fmt.Fprintf(o.stderr, "graceful: --events %s: %d lines lost (it was not being read)\n", o.eventsName, lost)
			}
			if o.eventsFile != nil && flushed { // else a write may still be under way
				if err := o.eventsFile.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
					fmt.Fprintf(o.stderr, "graceful: --events: %v\n", err)
				}
			}
		}
		o.stderr.Close(max(time.Until(end), 0), engine.LostNote("stderr"))
	})
}
