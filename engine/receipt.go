package engine

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ReceiptVersion is the version of the receipt document's shape
// (schema/receipt.schema.json).
const ReceiptVersion = 1

// ReceiptDoc is the termination receipt: one JSON document per run that
// says what triggered cancellation, what each step did and when, how the
// job ended, the outcome, and how much of the deadline and the
// finalisation reserve was used. Durations are in milliseconds.
type ReceiptDoc struct {
	Version int    `json:"version"`
	Profile string `json:"profile"`
	// Trigger is what started cancellation (or draining); nil for a job
	// that ended on its own.
	Trigger *ReceiptTrigger `json:"trigger"`
	Steps   []ReceiptStep   `json:"steps"`
	// Job is the job's end as the runner reported it; nil when it was
	// not observed (abandoned).
	Job     *ReceiptExit `json:"job"`
	Outcome Outcome      `json:"outcome"`
	// Status is graceful's exit status; nil while finalisation runs.
	Status *int `json:"status"`
	// Reason is the engine's Result.Reason.
	Reason string `json:"reason,omitempty"`
	// DeadlineMS is the profile's deadline; UsedMS the time from t0 to the
	// job's end (or the end of the run), present once cancelled.
	DeadlineMS float64  `json:"deadline_ms"`
	UsedMS     *float64 `json:"deadline_used_ms,omitempty"`
	// Finalize is the finalisation's part, when the profile has one.
	Finalize *ReceiptFinalize `json:"finalize,omitempty"`
	// LostEventLines counts event lines dropped by stalled outputs.
	LostEventLines int `json:"lost_event_lines"`
	// Escaped lists processes that had left the job's process group,
	// as the runner reports them (the process runner's escape report).
	Escaped []ReceiptEscape `json:"escaped"`
	// Containers are the job containers of a kubernetes pod, in start
	// order, each with the receipt its join reported (the coordinator's
	// receipt only).
	Containers []ReceiptContainer `json:"containers,omitempty"`
	// Complete is false in the receipt given to the finalisation (the run
	// is not over yet) and true in the final one.
	Complete bool `json:"complete"`
}

// ReceiptContainer is one job container in a pod's receipt.
type ReceiptContainer struct {
	Name   string `json:"name"`
	State  string `json:"state"`
	Status int    `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Receipt is the receipt its join reported, absent when none came
	// (skipped, lost, never connected).
	Receipt json.RawMessage `json:"receipt,omitempty"`
}

// ReceiptTrigger is what started cancellation.
type ReceiptTrigger struct {
	// Kind is "signal", "timeout", "api", "coordinator" or "other".
	Kind   string `json:"kind"`
	Signal string `json:"signal,omitempty"`
	Count  int    `json:"count,omitempty"`
	Cause  string `json:"cause"`
	// Drained is true when the trigger drained (let the job finish)
	// rather than cancelled.
	Drained bool `json:"drained"`
	// AtMS is the time since the start of the run.
	AtMS float64 `json:"at_ms"`
}

// ReceiptStep is one step of the timeline that ran.
type ReceiptStep struct {
	Name     string  `json:"name"`
	Action   string  `json:"action"`
	Target   string  `json:"target,omitempty"`
	DueMS    float64 `json:"due_ms"`    // offset from t0 in the profile
	ActualMS float64 `json:"actual_ms"` // offset from t0 when it ran
	Result   string  `json:"result"`
}

// ReceiptExit is how the job ended.
type ReceiptExit struct {
	Code   int    `json:"code"`
	Signal string `json:"signal,omitempty"`
	Error  string `json:"error,omitempty"`
	Status int    `json:"status"`
}

// ReceiptFinalize is the finalisation's part of the receipt.
type ReceiptFinalize struct {
	Command string `json:"command"`
	Result  string `json:"result,omitempty"`
	// ReserveMS is the time left between the job's end and the deadline
	// (nil without cancellation); UsedMS is how long finalisation took.
	ReserveMS *float64 `json:"reserve_ms,omitempty"`
	UsedMS    *float64 `json:"used_ms,omitempty"`
}

// ReceiptEscape is one process that had left the job's process group.
type ReceiptEscape struct {
	PID     int    `json:"pid"`
	Command string `json:"command"`
	How     string `json:"how"`
}

// Receipt is a Sink that builds the receipt of one engine's run from its
// events. OnDecided, when set, is called with the receipt so far when the
// outcome is decided and finalisation is about to start (graceful writes
// it for the finalisation to read, GRACEFUL_RECEIPT); Doc gives the final
// document once Run has returned.
type Receipt struct {
	mu        sync.Mutex
	prof      *Profile
	doc       ReceiptDoc
	stepAt    map[string]time.Duration // step state -> its offset
	pending   map[string]int           // "action|target" -> step index awaiting a late answer
	decidedAt time.Duration            // since t0, when the outcome was decided
	finalAt   time.Duration            // since t0 (or start), when finalisation started
	cancelled bool
	OnDecided func(ReceiptDoc)
}

// NewReceipt returns a receipt sink for a run of p.
func NewReceipt(p *Profile) *Receipt {
	r := &Receipt{prof: p, stepAt: map[string]time.Duration{}, pending: map[string]int{}}
	for i, s := range p.Steps {
		r.stepAt[StepState(p, i)] = s.At
	}
	r.doc = ReceiptDoc{Version: ReceiptVersion, Profile: p.Name, DeadlineMS: ms(p.Deadline), Steps: []ReceiptStep{}, Escaped: []ReceiptEscape{}}
	if hasFinalize(p) {
		r.doc.Finalize = &ReceiptFinalize{Command: strings.Join(p.Finalize.Command, " ")}
	}
	return r
}

// Emit implements Sink.
func (r *Receipt) Emit(e Event) {
	r.mu.Lock()
	var decided func(ReceiptDoc)
	var snapshot ReceiptDoc
	defer func() {
		r.mu.Unlock()
		if decided != nil {
			decided(snapshot)
		}
	}()
	since := e.Since
	if !e.Cancelled {
		since = e.Elapsed
	}
	switch {
	case e.From == StateRunning && (e.To == StateDraining || e.To == StateCancelling):
		r.doc.Trigger = trigger(e.Cause, e.To == StateDraining, e.Elapsed)
	case e.From == StateDraining && e.To == StateCancelling && r.doc.Trigger != nil:
		t := trigger(e.Cause, false, e.Elapsed)
		r.doc.Trigger = t
	}
	if e.To == StateCancelling && e.From != StateCancelling {
		r.cancelled = true
	}
	if at, ok := r.stepAt[e.To]; ok && e.From != e.To {
		r.doc.Steps = append(r.doc.Steps, ReceiptStep{
			Name: strings.TrimPrefix(e.Cause, "step "), Action: e.Action, Target: e.Target,
			DueMS: ms(at), ActualMS: ms(e.Since), Result: e.Result,
		})
		if e.Result == pendingResult {
			r.pending[e.Action+"|"+e.Target] = len(r.doc.Steps) - 1
		}
	} else if i, ok := r.pending[e.Action+"|"+e.Target]; ok && strings.Contains(e.Result, " (after ") {
		r.doc.Steps[i].Result = e.Result
		delete(r.pending, e.Action+"|"+e.Target)
	}
	if e.Outcome != "" && r.doc.Outcome == "" {
		r.doc.Outcome = e.Outcome
		r.decidedAt = since
		if e.Cancelled {
			v := ms(e.Since)
			r.doc.UsedMS = &v
		}
	}
	if e.To == StateFinalizing && e.From != StateFinalizing {
		r.finalAt = since
		if r.doc.Finalize != nil && r.cancelled && r.prof.Deadline > 0 {
			v := ms(r.prof.Deadline - since)
			r.doc.Finalize.ReserveMS = &v
		}
		if r.OnDecided != nil {
			decided, snapshot = r.OnDecided, r.copyLocked()
		}
	}
	if e.Target == "finalize" && e.Cause != "finalize" && r.doc.Finalize != nil {
		r.doc.Finalize.Result = e.Result
		v := ms(since - r.finalAt)
		r.doc.Finalize.UsedMS = &v
	}
	if e.To == StateDone && e.From != StateDone {
		st := e.Status
		r.doc.Status = &st
	}
}

func trigger(cause string, drained bool, at time.Duration) *ReceiptTrigger {
	t := &ReceiptTrigger{Cause: cause, Drained: drained, AtMS: ms(at), Kind: "other"}
	switch {
	case strings.HasPrefix(cause, "signal "):
		t.Kind = "signal"
		f := strings.Fields(cause) // signal SIGTERM #2
		if len(f) == 3 {
			t.Signal = f[1]
			t.Count, _ = strconv.Atoi(strings.TrimPrefix(f[2], "#"))
		}
	case cause == CauseTimeout:
		t.Kind = "timeout"
	case cause == CauseAPI:
		t.Kind = "api"
	case cause == CauseCoordinatorLost || strings.Contains(cause, "coordinator") || strings.Contains(cause, "terminating"):
		t.Kind = "coordinator"
	}
	return t
}

func (r *Receipt) copyLocked() ReceiptDoc {
	b, _ := json.Marshal(r.doc)
	var d ReceiptDoc
	_ = json.Unmarshal(b, &d)
	return d
}

// Doc returns the final receipt for res, with lost event lines and the
// processes that escaped the job's group as the caller knows them.
func (r *Receipt) Doc(res Result, lost int, escaped []ReceiptEscape) ReceiptDoc {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.copyLocked()
	d.Outcome, d.Reason = res.Outcome, res.Reason
	st := res.Status
	d.Status = &st
	if !res.Exit.Abandoned {
		x := &ReceiptExit{Code: res.Exit.Code, Signal: res.Exit.Signal, Status: res.Exit.Status()}
		if res.Exit.Err != nil {
			x.Error = res.Exit.Err.Error()
		}
		d.Job = x
	}
	if res.FinalizeErr != nil && d.Finalize != nil {
		d.Finalize.Result = res.FinalizeErr.Error()
	}
	d.LostEventLines = lost
	if escaped != nil {
		d.Escaped = escaped
	}
	d.Complete = true
	return d
}
