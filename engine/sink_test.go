package engine

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFormatEvent(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		want string
	}{{
		name: "drain before cancellation shows time since start",
		ev:   Event{Elapsed: 1500 * time.Millisecond, From: StateRunning, To: StateDraining, Cause: "signal SIGINT #1"},
		want: "   1.500s draining         signal SIGINT #1",
	}, {
		name: "step shows its action, receiver and result",
		ev:   Event{Cancelled: true, From: StateCancelling, To: "step:interrupt", Cause: "step interrupt", Action: "signal SIGTERM", Target: "group", Result: "ok"},
		want: "  +0.000s step:interrupt   signal SIGTERM → group: ok",
	}, {
		name: "exit trigger names its cause",
		ev:   Event{Cancelled: true, Since: 2 * time.Second, From: "step:interrupt", To: StateDone, Cause: "signal SIGINT #3", Action: "abandon", Target: "job", Result: "ok", Outcome: OutcomeAbandoned, Status: 123},
		want: "  +2.000s done             abandon → job: ok (signal SIGINT #3); abandoned, exit status 123",
	}, {
		name: "ignored signal",
		ev:   Event{Cancelled: true, Since: 12345 * time.Millisecond, From: StateFinalizing, To: StateFinalizing, Cause: "signal SIGHUP #1", Result: "ignored"},
		want: " +12.345s finalizing       signal SIGHUP #1: ignored",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, FormatEvent(tc.ev)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestJSONSink(t *testing.T) {
	var buf bytes.Buffer
	s := NewJSONSink(&buf)
	start := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	s.Emit(Event{Time: start, From: "", To: StateRunning, Cause: "start"})
	s.Emit(Event{Time: start.Add(9 * time.Second), Elapsed: 9 * time.Second, Cancelled: true, Since: 9 * time.Second,
		From: "step:terminate", To: StateDone, Cause: "job killed by SIGKILL", Outcome: OutcomeCancelled, Status: 137})
	want := `{"v":1,"time":"2000-01-01T00:00:00Z","elapsed_ms":0,"from":"","to":"running","cause":"start"}
{"v":1,"time":"2000-01-01T00:00:09Z","elapsed_ms":9000,"since_ms":9000,"from":"step:terminate","to":"done","cause":"job killed by SIGKILL","outcome":"cancelled","status":137}
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestStatusText(t *testing.T) {
	cancelled := Event{Cancelled: true, Since: 0, To: "step:interrupt", Next: 9 * time.Second, NextAction: "SIGKILL",
		LastSignal: "SIGINT", NextSignal: "exit"}
	tests := []struct {
		name string
		ev   Event
		age  time.Duration
		want string
	}{
		{"countdown to the next step", cancelled, 2100 * time.Millisecond, "SIGKILL in 6.9s; Ctrl-C again to exit now"},
		{"countdown never goes below zero", cancelled, time.Minute, "SIGKILL in 0.0s; Ctrl-C again to exit now"},
		{"draining offers to cancel", Event{To: StateDraining, LastSignal: "SIGINT", NextSignal: "cancel"}, 0, "draining: waiting for the job to finish; Ctrl-C again to cancel"},
		{"other signals are named", Event{Cancelled: true, To: "step:interrupt", Next: time.Second, NextAction: "deadline", LastSignal: "SIGTERM", NextSignal: "exit"}, 0, "deadline in 1.0s; SIGTERM again to exit now"},
		{"finalisation under the deadline", Event{Cancelled: true, Since: 3 * time.Second, To: StateFinalizing, Next: 10 * time.Second, NextAction: "deadline"}, 0, "finalizing; deadline in 7.0s"},
		{"nothing before cancellation", Event{To: StateRunning}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := statusText(tc.ev, tc.age); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the status line's ticker.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Under TERM=dumb (no width): plain lines, each once the status has held
// for statusSettle; a state passed through at once (a step due now) is
// not printed, the same status is not printed twice, nothing after the
// end.
func TestStatusLinePlainLines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf syncBuffer
		s := NewStatusLine(&buf, nil)
		s.Emit(Event{To: StateDraining, LastSignal: "SIGINT", NextSignal: "cancel"})
		time.Sleep(time.Second)
		s.Emit(Event{To: StateDraining, LastSignal: "SIGINT", NextSignal: "cancel", Cause: "signal SIGHUP #1", Result: "ignored"})
		time.Sleep(time.Second)
		// The second Ctrl-C: cancelling, with the first step due now, then
		// the step, with the next one 1.5 s away.
		s.Emit(Event{Cancelled: true, To: StateCancelling, Next: 0, NextAction: "SIGTERM", LastSignal: "SIGINT", NextSignal: "exit"})
		s.Emit(Event{Cancelled: true, To: "step:interrupt", Next: 1500 * time.Millisecond, NextAction: "SIGKILL", LastSignal: "SIGINT", NextSignal: "exit"})
		time.Sleep(1400 * time.Millisecond)
		s.Emit(Event{Cancelled: true, Since: 1500 * time.Millisecond, To: "step:kill", Next: 5 * time.Second, NextAction: "deadline", LastSignal: "SIGINT", NextSignal: "exit"})
		time.Sleep(10 * time.Millisecond)
		s.Emit(Event{Cancelled: true, Since: 1510 * time.Millisecond, From: "step:kill", To: StateDone})
		s.Emit(Event{To: StateDraining, LastSignal: "SIGINT", NextSignal: "cancel"})
		time.Sleep(time.Minute)
		synctest.Wait()
		want := "graceful: draining: waiting for the job to finish; Ctrl-C again to cancel\n" +
			"graceful: SIGKILL in 1.4s; Ctrl-C again to exit now\n"
		if diff := cmp.Diff(want, buf.String()); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// A long countdown is printed again when a minute and ten seconds are
// left; a short one is not.
func TestStatusLineReminders(t *testing.T) {
	for _, tc := range []struct {
		next time.Duration
		want []string
	}{
		{5 * time.Minute, []string{"SIGKILL in 299.9s", "SIGKILL in 60.0s", "SIGKILL in 10.0s"}},
		{30 * time.Second, []string{"SIGKILL in 29.9s", "SIGKILL in 10.0s"}},
		{15 * time.Second, []string{"SIGKILL in 14.9s"}},
	} {
		t.Run(tc.next.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var buf syncBuffer
				s := NewStatusLine(&buf, nil)
				s.Emit(Event{Cancelled: true, To: "step:interrupt", Next: tc.next, NextAction: "SIGKILL"})
				time.Sleep(tc.next)
				s.Emit(Event{Cancelled: true, Since: tc.next, To: StateDone})
				synctest.Wait()
				var want string
				for _, l := range tc.want {
					want += "graceful: " + l + "\n"
				}
				if diff := cmp.Diff(want, buf.String()); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		})
	}
}

// On a terminal of known width every line, the status line's and those
// written through Wrap, begins with freshLine, in the same Write.
func TestStatusLineFreshLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var w writes
		s := NewStatusLine(&w, func() int { return 40 })
		log := s.Wrap(&w)
		s.Emit(Event{To: StateDraining, LastSignal: "SIGINT", NextSignal: "cancel"})
		time.Sleep(time.Second)
		if _, err := io.WriteString(log, "  +0.000s step:interrupt\n"); err != nil {
			t.Fatal(err)
		}
		s.Close()
		fresh := strings.Repeat(" ", 40) + "\r\x1b[K"
		want := []string{
			fresh + "graceful: draining: waiting for the job to finish; Ctrl-C again to cancel\n",
			fresh + "  +0.000s step:interrupt\n",
		}
		if diff := cmp.Diff(want, w.all()); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// writes keeps each Write apart.
type writes struct {
	mu sync.Mutex
	w  []string
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.w = append(w.w, string(p))
	return len(p), nil
}

func (w *writes) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w
}

// Events that do not change what the status says (a signal ignored, -v's
// events) neither print it again nor put it off.
func TestStatusLineSameStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf syncBuffer
		s := NewStatusLine(&buf, nil)
		draining := Event{To: StateDraining, LastSignal: "SIGINT", NextSignal: "cancel"}
		s.Emit(draining)
		time.Sleep(60 * time.Millisecond)
		s.Emit(draining)
		time.Sleep(60 * time.Millisecond)
		synctest.Wait()
		want := "graceful: draining: waiting for the job to finish; Ctrl-C again to cancel\n"
		if got := buf.String(); got != want {
			t.Errorf("after 120 ms: got %q, want %q", got, want)
		}
		s.Emit(draining)
		time.Sleep(time.Second)
		s.Close()
		if got := buf.String(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}
