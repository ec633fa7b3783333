package engine

import (
	"bytes"
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

func TestStatusLineClearsAtTheEnd(t *testing.T) {
	var buf bytes.Buffer
	s := NewStatusLine(&buf)
	s.Emit(Event{To: StateDraining, LastSignal: "SIGINT", NextSignal: "cancel"})
	s.Emit(Event{From: StateDraining, To: StateDone})
	s.Emit(Event{To: StateDraining}) // after the end: nothing
	want := "\r\x1b[Kdraining: waiting for the job to finish; Ctrl-C again to cancel\r\x1b[K"
	if got := buf.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if strings.Count(buf.String(), "\r") != 2 {
		t.Errorf("want one draw and one clear")
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

func TestStatusLineCountsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf syncBuffer
		s := NewStatusLine(&buf)
		s.Emit(Event{Cancelled: true, To: "step:interrupt", Next: time.Second, NextAction: "SIGKILL", LastSignal: "SIGINT", NextSignal: "exit"})
		time.Sleep(350 * time.Millisecond)
		s.Emit(Event{Cancelled: true, Since: time.Second, From: "step:interrupt", To: StateDone})
		time.Sleep(time.Second) // the ticker has stopped: nothing more is drawn
		synctest.Wait()
		want := strings.Join([]string{
			"\r\x1b[KSIGKILL in 1.0s; Ctrl-C again to exit now",
			"\r\x1b[KSIGKILL in 0.9s; Ctrl-C again to exit now",
			"\r\x1b[KSIGKILL in 0.8s; Ctrl-C again to exit now",
			"\r\x1b[KSIGKILL in 0.7s; Ctrl-C again to exit now",
			"\r\x1b[K",
		}, "")
		if got := buf.String(); got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	})
}
