package engine

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// StatusLine is a Sink that tells the person at a terminal what the next
// step is and what another Ctrl-C would do, in whole lines of their own:
//
//	graceful: draining: waiting for the job to finish; Ctrl-C again to cancel
//	graceful: SIGKILL in 6.9s; Ctrl-C again to exit now
//
// The job writes to the same terminal, and graceful cannot see its writes
// (the job inherits the terminal). So the status is never a line that
// stays under the cursor and is redrawn in place: the job's next line
// would run into it, or be overwritten by it. Instead each line is
// written once, when the status changes (after it has held for
// statusSettle, so that a state the engine passes through at once is not
// printed), with reminders of a long countdown when a minute and ten
// seconds are left (statusReminders).
//
// Each line, and each write through Wrap, starts on a line of its own even
// when the job has left the cursor in the middle of one: see freshLine.
// That takes the terminal's width and VT100-style control characters;
// without a width (TERM=dumb, or the size is unknown) lines are written
// as they are, with no control characters at all.
type StatusLine struct {
	mu      sync.Mutex
	w       io.Writer
	columns func() int
	now     func() time.Time
	ev      Event
	at      time.Time // wall time when ev arrived
	key     string    // what the status says (statusKey), printed or about to be
	gen     int       // bumped by each change: older timers do nothing
	timer   *time.Timer
	closed  bool
}

// NewStatusLine returns a status line writing to w. columns reports the
// width of the terminal w writes to; nil, or a 0 from it, means that w
// must get no control characters (TERM=dumb) or that its width is
// unknown: lines are then written as they are.
func NewStatusLine(w io.Writer, columns func() int) *StatusLine {
	return &StatusLine{w: w, columns: columns, now: time.Now}
}

// statusSettle is how long a status must hold before it is printed.
const statusSettle = 100 * time.Millisecond

// statusReminders are the times left at which a countdown is printed
// again, each only when the countdown began at least twice as far out.
var statusReminders = []time.Duration{time.Minute, 10 * time.Second}

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
	key := statusKey(e)
	if key == s.key {
		return // the line printed or about to be says it; its reminders stand
	}
	s.ev, s.at, s.key = e, s.now(), key
	s.gen++
	if key == "" {
		if s.timer != nil {
			s.timer.Stop()
		}
		return
	}
	s.after(statusSettle, s.gen)
}

// after prints the status d from now unless it changed since gen.
func (s *StatusLine) after(d time.Duration, gen int) {
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timer = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || s.gen != gen {
			return
		}
		s.printLocked()
	})
}

// printLocked prints the status now and schedules the next reminder.
func (s *StatusLine) printLocked() {
	age := s.now().Sub(s.at)
	text := statusText(s.ev, age)
	if text == "" {
		return
	}
	left := time.Duration(-1)
	if s.countingDown() {
		left = s.ev.Next - s.ev.Since - age
		if left < statusSettle {
			return // the step is due: its own event follows
		}
	}
	_, _ = s.writeLocked(s.w, []byte("graceful: "+text+"\n")) // best effort, as all of graceful's output
	for _, r := range statusReminders {
		if left >= 2*r {
			s.after(left-r, s.gen)
			break
		}
	}
}

func (s *StatusLine) countingDown() bool { return s.ev.Cancelled && s.ev.NextAction != "" }

// statusKey is what the line for e says, whatever the time left.
func statusKey(e Event) string {
	e.Since = 0
	return statusText(e, 0)
}

// Close stops the reminders; nothing is printed after it. Emitting the
// final event does the same; Close is for runs that end otherwise.
func (s *StatusLine) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLocked()
}

func (s *StatusLine) closeLocked() {
	s.closed = true
	s.gen++
	if s.timer != nil {
		s.timer.Stop()
	}
}

// writeLocked writes p to w in one Write, on a line of its own.
func (s *StatusLine) writeLocked(w io.Writer, p []byte) (int, error) {
	cols := 0
	if s.columns != nil {
		cols = s.columns()
	}
	if cols <= 0 {
		return w.Write(p)
	}
	b := make([]byte, 0, cols+len(freshLineEnd)+len(p))
	b = append(b, freshLine(cols)...)
	if _, err := w.Write(append(b, p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// freshLineEnd ends freshLine: back to the first column, erase the line.
const freshLineEnd = "\r\x1b[K"

// freshLine moves the cursor of a terminal cols columns wide to the start
// of an empty line without ending a line the job is in the middle of, the
// way zsh (PROMPT_SP) and fish start their prompt: cols spaces fill the
// rest of the cursor's line and, unless the cursor was in the first
// column, wrap onto the next; a carriage return goes to the first column
// of the line the spaces ended on and CSI K erases them. From the first
// column the spaces stay on the cursor's line (the terminal holds the
// cursor at the last column until the next character), so no empty line
// is left behind; what stood on that line is erased, which only a job that
// redraws its own line with a carriage return leaves there.
func freshLine(cols int) string { return strings.Repeat(" ", cols) + freshLineEnd }

// Wrap returns a writer for graceful's own lines on the terminal the job
// shares: each write is one Write to w, on a line of its own.
func (s *StatusLine) Wrap(w io.Writer) io.Writer { return statusWriter{s, w} }

type statusWriter struct {
	s *StatusLine
	w io.Writer
}

func (sw statusWriter) Write(p []byte) (int, error) {
	sw.s.mu.Lock()
	defer sw.s.mu.Unlock()
	return sw.s.writeLocked(sw.w, p)
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
