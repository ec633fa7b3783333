package engine

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// NewTextSink writes one human line per event to w:
//
//	 1.000s draining         signal SIGINT #1
//	+0.000s cancelling       signal SIGINT #2
//	+0.000s step:interrupt   signal SIGTERM → group: ok
//	+9.000s step:terminate   signal SIGKILL → tree: ok
//	+9.000s done             job killed by SIGKILL; cancelled, exit status 137
//
// Times with a "+" are offsets from t0, the start of cancellation; the
// others are times since the run started. The state column is the state
// after the event. Writes from several engines sharing w do not interleave
// within a line.
func NewTextSink(w io.Writer) Sink { return &textSink{w: w} }

type textSink struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

func (s *textSink) Emit(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf[:0], FormatEvent(e)...)
	s.buf = append(s.buf, '\n')
	s.w.Write(s.buf) //nolint:errcheck // a log line that cannot be written is lost, not fatal
}

// FormatEvent renders e as one line of NewTextSink's output, without the
// newline.
func FormatEvent(e Event) string {
	var b strings.Builder
	if e.Cancelled {
		fmt.Fprintf(&b, "%9s ", "+"+seconds(e.Since))
	} else {
		fmt.Fprintf(&b, "%9s ", seconds(e.Elapsed))
	}
	fmt.Fprintf(&b, "%-16s ", e.To)
	switch {
	case e.Action != "":
		b.WriteString(e.Action)
		if e.Target != "" {
			b.WriteString(" → " + e.Target)
		}
		if e.Result != "" {
			b.WriteString(": " + e.Result)
		}
		if e.Cause != "" && !strings.HasPrefix(e.Cause, "step ") && !strings.HasPrefix(e.Cause, "finalize") {
			b.WriteString(" (" + e.Cause + ")")
		}
	default:
		b.WriteString(e.Cause)
		if e.Result != "" {
			b.WriteString(": " + e.Result)
		}
	}
	if e.To == StateDone && e.From != StateDone {
		fmt.Fprintf(&b, "; %s, exit status %d", e.Outcome, e.Status)
	}
	return strings.TrimRight(b.String(), " ")
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
}

// NewJSONSink writes one JSON object per event to w (JSON Lines). "v" is
// EventsVersion; durations are in milliseconds; "since_ms" is present once
// cancellation started and "status" on the final event. The shape is
// schema/events.schema.json.
func NewJSONSink(w io.Writer) Sink { return &jsonSink{w: w} }

type jsonSink struct {
	mu sync.Mutex
	w  io.Writer
}

// EventsVersion is the version of the JSON event lines' shape
// (schema/events.schema.json), in each line's "v".
const EventsVersion = 1

type jsonEvent struct {
	V          int       `json:"v"`
	Time       time.Time `json:"time"`
	ElapsedMS  float64   `json:"elapsed_ms"`
	SinceMS    *float64  `json:"since_ms,omitempty"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Cause      string    `json:"cause,omitempty"`
	Action     string    `json:"action,omitempty"`
	Target     string    `json:"target,omitempty"`
	Result     string    `json:"result,omitempty"`
	NextMS     *float64  `json:"next_ms,omitempty"`
	NextAction string    `json:"next_action,omitempty"`
	LastSignal string    `json:"last_signal,omitempty"`
	NextSignal string    `json:"next_signal,omitempty"`
	Outcome    Outcome   `json:"outcome,omitempty"`
	Status     *int      `json:"status,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (s *jsonSink) Emit(e Event) {
	j := jsonEvent{
		V: EventsVersion, Time: e.Time, ElapsedMS: ms(e.Elapsed), From: e.From, To: e.To,
		Cause: e.Cause, Action: e.Action, Target: e.Target, Result: e.Result,
		NextAction: e.NextAction, LastSignal: e.LastSignal, NextSignal: e.NextSignal,
		Outcome: e.Outcome,
	}
	if e.Cancelled {
		v := ms(e.Since)
		j.SinceMS = &v
	}
	if e.NextAction != "" {
		v := ms(e.Next)
		j.NextMS = &v
	}
	if e.To == StateDone && e.From != StateDone {
		st := e.Status
		j.Status = &st
	}
	line, err := json.Marshal(j)
	if err != nil {
		return
	}
	line = append(line, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w.Write(line) //nolint:errcheck // see textSink
}
