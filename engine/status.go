package engine

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// StatusLine is a Sink that keeps one updating line on a terminal: the
// countdown to the next step and what another Ctrl-C would do,
//
//	SIGKILL in 6.9s; Ctrl-C again to exit now
//
// re-rendered about ten times a second while a countdown runs, and cleared
// when the run ends. It writes terminal control sequences: use it only when
// w is a terminal (the caller decides; the engine does not look).
type StatusLine struct {
	mu      sync.Mutex
	w       io.Writer
	now     func() time.Time
	ev      Event
	at      time.Time // wall time when ev arrived
	shown   bool      // a line is on screen
	text    string
	ticking bool
	stop    chan struct{}
	closed  bool
}

// NewStatusLine returns a status line writing to w.
func NewStatusLine(w io.Writer) *StatusLine {
	return &StatusLine{w: w, now: time.Now}
}

// statusTick is how often a running countdown is redrawn.
const statusTick = 100 * time.Millisecond

// Emit implements Sink.
func (s *StatusLine) Emit(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if e.To == StateDone {
		s.closeLocked()
		return
	}
	s.ev, s.at = e, s.now()
	s.drawLocked()
	if s.countingDown() && !s.ticking {
		s.ticking = true
		s.stop = make(chan struct{})
		go s.tick(s.stop)
	}
}

func (s *StatusLine) tick(stop chan struct{}) {
	t := time.NewTicker(statusTick)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.mu.Lock()
			if s.closed {
				s.mu.Unlock()
				return
			}
			s.drawLocked()
			s.mu.Unlock()
		}
	}
}

func (s *StatusLine) countingDown() bool { return s.ev.Cancelled && s.ev.NextAction != "" }

// Close clears the line and stops redrawing. Emitting the final event does
// the same; Close is for runs that end otherwise.
func (s *StatusLine) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLocked()
}

func (s *StatusLine) closeLocked() {
	if s.closed {
		return
	}
	s.closed = true
	if s.ticking {
		close(s.stop)
		s.ticking = false
	}
	s.clearLocked()
}

func (s *StatusLine) clearLocked() {
	if s.shown {
		io.WriteString(s.w, "\r\x1b[K") //nolint:errcheck // best effort on a terminal
		s.shown = false
	}
}

func (s *StatusLine) drawLocked() {
	text := statusText(s.ev, s.now().Sub(s.at))
	if text == s.text && s.shown {
		return
	}
	s.text = text
	if text == "" {
		s.clearLocked()
		return
	}
	io.WriteString(s.w, "\r\x1b[K"+text) //nolint:errcheck // best effort on a terminal
	s.shown = true
}

// Wrap returns a writer for log lines that share the terminal with the
// status line: each write clears the line, writes, and draws it again.
func (s *StatusLine) Wrap(w io.Writer) io.Writer { return statusWriter{s, w} }

type statusWriter struct {
	s *StatusLine
	w io.Writer
}

func (sw statusWriter) Write(p []byte) (int, error) {
	s := sw.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clearLocked()
	n, err := sw.w.Write(p)
	if !s.closed {
		s.text = ""
		s.drawLocked()
	}
	return n, err
}

// statusText is the line for event e, age after it arrived.
func statusText(e Event, age time.Duration) string {
	var parts []string
	switch {
	case e.Cancelled && e.NextAction != "":
		left := max(e.Next-e.Since-age, 0)
		what := e.NextAction
		if e.To == StateFinalizing {
			what = "finalizing; " + what
		}
		parts = append(parts, fmt.Sprintf("%s in %.1fs", what, left.Seconds()))
	case e.To == StateDraining:
		parts = append(parts, "draining: waiting for the job to finish")
	case e.To == StateFinalizing:
		parts = append(parts, "finalizing")
	default:
		return ""
	}
	if hint := againHint(e); hint != "" {
		parts = append(parts, hint)
	}
	return strings.Join(parts, "; ")
}

func againHint(e Event) string {
	var what string
	switch Action(e.NextSignal) {
	case ActionExit:
		what = "exit now"
	case ActionCancel:
		if e.Cancelled {
			return ""
		}
		what = "cancel"
	default:
		return ""
	}
	if e.LastSignal == "SIGINT" {
		return "Ctrl-C again to " + what
	}
	return e.LastSignal + " again to " + what
}
