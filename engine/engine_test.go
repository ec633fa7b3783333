package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/sim"
)

// ev is the part of an engine.Event a test compares.
type ev struct {
	At                    time.Duration // since Run started
	From, To              string
	Cause, Action, Target string
	Result                string
}

func trim(e engine.Event) ev {
	return ev{e.Elapsed, e.From, e.To, e.Cause, e.Action, e.Target, e.Result}
}

type recorder struct{ evs []ev }

func (r *recorder) Emit(e engine.Event) { r.evs = append(r.evs, trim(e)) }

const s = time.Second

// processProfile is the Buildkite-like default: SIGINT/SIGTERM drain,
// cancel, exit; SIGQUIT cancels; SIGTERM to the group at once, SIGKILL to
// the tree at 9s, deadline 10s.
func processProfile() *engine.Profile {
	dce := []engine.Action{engine.ActionDrain, engine.ActionCancel, engine.ActionExit}
	return &engine.Profile{
		Name: "process", Runner: engine.RunnerProcess,
		Triggers: map[string][]engine.Action{
			"SIGINT": dce, "SIGTERM": dce,
			"SIGQUIT": {engine.ActionCancel},
			"SIGHUP":  {engine.ActionIgnore},
		},
		Steps: []engine.Step{
			{Name: "interrupt", At: 0, Kind: engine.StepSignal, Signal: "SIGTERM", Scope: engine.ScopeGroup},
			{Name: "terminate", At: 9 * s, Kind: engine.StepSignal, Signal: "SIGKILL", Scope: engine.ScopeTree},
		},
		Deadline: 10 * s,
	}
}

func withFinalize(p *engine.Profile) *engine.Profile {
	p.Finalize = &engine.Finalize{Command: []string{"./upload-logs.sh"}}
	return p
}

// hookProfile runs a preStop-like command at t0 before signalling; the
// first SIGTERM cancels and the second exits.
func hookProfile() *engine.Profile {
	p := processProfile()
	p.Triggers = map[string][]engine.Action{
		"SIGTERM": {engine.ActionCancel, engine.ActionExit},
		"SIGQUIT": {engine.ActionCancel},
	}
	p.Steps = append([]engine.Step{{Name: "prestop", At: 0, Kind: engine.StepCommand, Command: []string{"./drain.sh"}}}, p.Steps...)
	p.Steps[1].At = 5 * s
	return p
}

// kubernetesProfile: the first SIGTERM cancels; notify at once, abandon at
// 50s, deadline 60s, with a log upload.
func kubernetesProfile() *engine.Profile {
	return withFinalize(&engine.Profile{
		Name: "kubernetes", Runner: engine.RunnerKubernetes,
		Triggers: map[string][]engine.Action{"SIGTERM": {engine.ActionCancel, engine.ActionExit}},
		Steps: []engine.Step{
			{Name: "interrupt", At: 0, Kind: engine.StepNotify, Notify: "interrupt"},
			{Name: "abandon", At: 50 * s, Kind: engine.StepAbandon},
		},
		Deadline: 60 * s,
	})
}

type situation struct {
	name    string
	profile *engine.Profile
	job     string
	inputs  []string // sim.ParseInput
	early   string   // Cancel cause given before Run
	want    []ev
	outcome engine.Outcome
	status  int
	// tie: the case depends on two things due at the same instant, which
	// only virtual time orders deterministically; sharedTie: the same, on
	// a SharedClock only.
	tie, sharedTie bool
}

func situations() []situation {
	start := ev{0, "", "running", "start", "", "", ""}
	return []situation{{
		name:    "drain then job exits",
		profile: processProfile(), job: "exits-at=5s",
		inputs: []string{"1s:SIGTERM"},
		want: []ev{
			start,
			{1 * s, "running", "draining", "signal SIGTERM #1", "", "", ""},
			{5 * s, "draining", "done", "job exited with status 0", "", "", ""},
		},
		outcome: engine.OutcomeExited, status: 0,
	}, {
		name:    "drain then second signal cancels",
		profile: processProfile(), job: "exits-on-term",
		inputs: []string{"1s:SIGINT", "2s:SIGINT"},
		want: []ev{
			start,
			{1 * s, "running", "draining", "signal SIGINT #1", "", "", ""},
			{2 * s, "draining", "cancelling", "signal SIGINT #2", "", "", ""},
			{2 * s, "cancelling", "step:interrupt", "step interrupt", "signal SIGTERM", "group", "ok"},
			{2 * s, "step:interrupt", "done", "job killed by SIGTERM", "", "", ""},
		},
		outcome: engine.OutcomeCancelled, status: 143,
	}, {
		name:    "cancel with job exiting inside the signal grace",
		profile: processProfile(), job: "exits-after=2s,code=3",
		inputs: []string{"1s:SIGQUIT"},
		want: []ev{
			start,
			{1 * s, "running", "cancelling", "signal SIGQUIT #1", "", "", ""},
			{1 * s, "cancelling", "step:interrupt", "step interrupt", "signal SIGTERM", "group", "ok"},
			{3 * s, "step:interrupt", "done", "job exited with status 3", "", "", ""},
		},
		outcome: engine.OutcomeCancelled, status: 3,
	}, {
		name:    "job ignoring SIGTERM killed at the signal grace",
		profile: processProfile(), job: "ignores-term",
		inputs: []string{"0s:SIGQUIT"},
		want: []ev{
			start,
			{0, "running", "cancelling", "signal SIGQUIT #1", "", "", ""},
			{0, "cancelling", "step:interrupt", "step interrupt", "signal SIGTERM", "group", "ok"},
			{9 * s, "step:interrupt", "step:terminate", "step terminate", "signal SIGKILL", "tree", "ok"},
			{9 * s, "step:terminate", "done", "job killed by SIGKILL", "", "", ""},
		},
		outcome: engine.OutcomeCancelled, status: 137,
	}, {
		name:    "finalisation that finishes",
		profile: withFinalize(processProfile()), job: "exits-after=1s,exec-takes=3s",
		inputs: []string{"0s:SIGQUIT"},
		want: []ev{
			start,
			{0, "running", "cancelling", "signal SIGQUIT #1", "", "", ""},
			{0, "cancelling", "step:interrupt", "step interrupt", "signal SIGTERM", "group", "ok"},
			{1 * s, "step:interrupt", "finalizing", "job exited with status 0", "", "", ""},
			{1 * s, "finalizing", "finalizing", "finalize", "exec ./upload-logs.sh", "finalize", "started"},
			{4 * s, "finalizing", "done", "finalize finished", "exec ./upload-logs.sh", "finalize", "ok"},
		},
		outcome: engine.OutcomeCancelled, status: 0,
	}, {
		name:    "finalisation that overruns is cut at the deadline",
		profile: withFinalize(processProfile()), job: "exits-after=2s,exec-takes=20s",
		inputs: []string{"0s:SIGQUIT"},
		want: []ev{
			start,
			{0, "running", "cancelling", "signal SIGQUIT #1", "", "", ""},
			{0, "cancelling", "step:interrupt", "step interrupt", "signal SIGTERM", "group", "ok"},
			{2 * s, "step:interrupt", "finalizing", "job exited with status 0", "", "", ""},
			{2 * s, "finalizing", "finalizing", "finalize", "exec ./upload-logs.sh", "finalize", "started"},
			{10 * s, "finalizing", "done", "deadline", "abandon", "job", "job already stopped"},
		},
		outcome: engine.OutcomeCancelled, status: 0,
	}, {
		name:    "third signal exits immediately",
		profile: processProfile(), job: "ignores-term",
		inputs: []string{"0s:SIGINT", "1s:SIGINT", "2s:SIGINT"},
		want: []ev{
			start,
			{0, "running", "draining", "signal SIGINT #1", "", "", ""},
			{1 * s, "draining", "cancelling", "signal SIGINT #2", "", "", ""},
			{1 * s, "cancelling", "step:interrupt", "step interrupt", "signal SIGTERM", "group", "ok"},
			{2 * s, "step:interrupt", "done", "signal SIGINT #3", "abandon", "job", "ok"},
		},
		outcome: engine.OutcomeAbandoned, status: 123,
	}, {
		name:    "trigger arriving while an escalation step is running",
		profile: hookProfile(), job: "ignores-term,exec-takes=4s",
		inputs: []string{"0s:SIGTERM", "1s:SIGQUIT", "6s:SIGTERM"},
		want: []ev{
			start,
			{0, "running", "cancelling", "signal SIGTERM #1", "", "", ""},
			{0, "cancelling", "step:prestop", "step prestop", "exec ./drain.sh", "command", "started"},
			{1 * s, "step:prestop", "step:prestop", "signal SIGQUIT #1", "", "", "ignored (cancel): cancellation under way"},
			{4 * s, "step:prestop", "step:prestop", "step prestop finished", "exec ./drain.sh", "command", "ok"},
			{5 * s, "step:prestop", "step:interrupt", "step interrupt", "signal SIGTERM", "group", "ok"},
			{6 * s, "step:interrupt", "done", "signal SIGTERM #2", "abandon", "job", "ok"},
		},
		outcome: engine.OutcomeAbandoned, status: 123,
	}, {
		name:    "trigger exits while a command step is running",
		profile: hookProfile(), job: "ignores-term,exec-takes=30s",
		inputs: []string{"0s:SIGTERM", "2s:SIGTERM"},
		want: []ev{
			start,
			{0, "running", "cancelling", "signal SIGTERM #1", "", "", ""},
			{0, "cancelling", "step:prestop", "step prestop", "exec ./drain.sh", "command", "started"},
			{2 * s, "step:prestop", "done", "signal SIGTERM #2", "abandon", "job", "ok"},
		},
		outcome: engine.OutcomeAbandoned, status: 123,
	}, {
		name: "command step cut off at its timeout",
		profile: func() *engine.Profile {
			p := hookProfile()
			p.Steps[0].Timeout = 2 * s
			return p
		}(), job: "exits-after=1s,exec-takes=1h",
		inputs: []string{"0s:SIGQUIT"},
		want: []ev{
			start,
			{0, "running", "cancelling", "signal SIGQUIT #1", "", "", ""},
			{0, "cancelling", "step:prestop", "step prestop", "exec ./drain.sh", "command", "started"},
			{2 * s, "step:prestop", "step:prestop", "step prestop finished", "exec ./drain.sh", "command", "cut off after 2s"},
			{5 * s, "step:prestop", "step:interrupt", "step interrupt", "signal SIGTERM", "group", "ok"},
			{6 * s, "step:interrupt", "done", "job exited with status 0", "", "", ""},
		},
		outcome: engine.OutcomeCancelled, status: 0,
	}, {
		name:    "job exits at the same instant a step is due",
		profile: processProfile(), job: "exits-after=9s",
		inputs: []string{"0s:SIGQUIT"},
		want: []ev{
			start,
			{0, "running", "cancelling", "signal SIGQUIT #1", "", "", ""},
			{0, "cancelling", "step:interrupt", "step interrupt", "signal SIGTERM", "group", "ok"},
			{9 * s, "step:interrupt", "done", "job exited with status 0", "", "", ""},
		},
		outcome: engine.OutcomeCancelled, status: 0,
		tie: true,
	}, {
		name: "job killed by a step gets no second step due at the same instant",
		profile: func() *engine.Profile {
			p := processProfile()
			p.Steps[1].At = 0
			return p
		}(), job: "exits-on-term",
		inputs: []string{"1s:SIGQUIT"},
		want: []ev{
			start,
			{1 * s, "running", "cancelling", "signal SIGQUIT #1", "", "", ""},
			{1 * s, "cancelling", "step:interrupt", "step interrupt", "signal SIGTERM", "group", "ok"},
			{1 * s, "step:interrupt", "done", "job killed by SIGTERM", "", "", ""},
		},
		outcome: engine.OutcomeCancelled, status: 143,
		// On a SharedClock a job's end sent on Done is received by Run's
		// goroutine, not by the clock's, which may run the second step
		// first (the target then reports the job gone).
		sharedTie: true,
	}, {
		name:    "cancel before the job has started",
		profile: processProfile(), job: "exits-on-term",
		early: "api",
		want: []ev{
			start,
			{0, "running", "cancelling", "api", "", "", ""},
			{0, "cancelling", "step:interrupt", "step interrupt", "signal SIGTERM", "group", "ok"},
			{0, "step:interrupt", "done", "job killed by SIGTERM", "", "", ""},
		},
		outcome: engine.OutcomeCancelled, status: 143,
	}, {
		name:    "signals after the outcome is decided are ignored",
		profile: withFinalize(processProfile()), job: "exits-at=1s,exec-takes=5s",
		inputs: []string{"2s:SIGINT", "3s:SIGQUIT", "4s:SIGHUP"},
		want: []ev{
			start,
			{1 * s, "running", "finalizing", "job exited with status 0", "", "", ""},
			{1 * s, "finalizing", "finalizing", "finalize", "exec ./upload-logs.sh", "finalize", "started"},
			{2 * s, "finalizing", "finalizing", "signal SIGINT #1", "", "", "ignored (drain): outcome already decided"},
			{3 * s, "finalizing", "finalizing", "signal SIGQUIT #1", "", "", "ignored (cancel): outcome already decided"},
			{4 * s, "finalizing", "finalizing", "signal SIGHUP #1", "", "", "ignored (ignore): outcome already decided"},
			{6 * s, "finalizing", "done", "finalize finished", "exec ./upload-logs.sh", "finalize", "ok"},
		},
		outcome: engine.OutcomeExited, status: 0,
	}, {
		name:    "exit trigger cuts a running finalisation short",
		profile: withFinalize(processProfile()), job: "exits-at=1s,code=4,exec-takes=1h",
		inputs: []string{"2s:SIGINT", "3s:SIGINT", "4s:SIGINT"},
		want: []ev{
			start,
			{1 * s, "running", "finalizing", "job exited with status 4", "", "", ""},
			{1 * s, "finalizing", "finalizing", "finalize", "exec ./upload-logs.sh", "finalize", "started"},
			{2 * s, "finalizing", "finalizing", "signal SIGINT #1", "", "", "ignored (drain): outcome already decided"},
			{3 * s, "finalizing", "finalizing", "signal SIGINT #2", "", "", "ignored (cancel): outcome already decided"},
			{4 * s, "finalizing", "done", "signal SIGINT #3", "abandon", "job", "job already stopped"},
		},
		outcome: engine.OutcomeExited, status: 4,
	}, {
		name:    "job that never stops is abandoned, then finalised inside the deadline",
		profile: kubernetesProfile(), job: "never,exec-takes=5s",
		inputs: []string{"0s:SIGTERM"},
		want: []ev{
			start,
			{0, "running", "cancelling", "signal SIGTERM #1", "", "", ""},
			{0, "cancelling", "step:interrupt", "step interrupt", "notify interrupt", "job", "ok"},
			{50 * s, "step:interrupt", "step:abandon", "step abandon", "abandon", "job", "ok"},
			{50 * s, "step:abandon", "finalizing", "job abandoned", "", "", ""},
			{50 * s, "finalizing", "finalizing", "finalize", "exec ./upload-logs.sh", "finalize", "started"},
			{55 * s, "finalizing", "done", "finalize finished", "exec ./upload-logs.sh", "finalize", "ok"},
		},
		outcome: engine.OutcomeAbandoned, status: 123,
	}, {
		name:    "job stops on notify, second SIGTERM during finalisation exits",
		profile: kubernetesProfile(), job: "exits-after=2s,exec-takes=30s",
		inputs: []string{"0s:SIGTERM", "10s:SIGTERM"},
		want: []ev{
			start,
			{0, "running", "cancelling", "signal SIGTERM #1", "", "", ""},
			{0, "cancelling", "step:interrupt", "step interrupt", "notify interrupt", "job", "ok"},
			{2 * s, "step:interrupt", "finalizing", "job exited with status 0", "", "", ""},
			{2 * s, "finalizing", "finalizing", "finalize", "exec ./upload-logs.sh", "finalize", "started"},
			{10 * s, "finalizing", "done", "signal SIGTERM #2", "abandon", "job", "job already stopped"},
		},
		outcome: engine.OutcomeCancelled, status: 0,
	}}
}

func parseInputs(t *testing.T, specs []string) []sim.Input {
	t.Helper()
	var out []sim.Input
	for _, spec := range specs {
		in, err := sim.ParseInput(spec)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, in)
	}
	return out
}

// TestVirtualTime runs every situation on the discrete-event driver.
func TestVirtualTime(t *testing.T) {
	for _, tc := range situations() {
		t.Run(tc.name, func(t *testing.T) { virtualSituation(t, tc) })
	}
}

func virtualSituation(t *testing.T, tc situation) {
	b, err := sim.ParseBehaviour(tc.job)
	if err != nil {
		t.Fatal(err)
	}
	vc := engine.NewVirtualClock(sim.Start())
	job := sim.NewJob(b, vc)
	rec := &recorder{}
	e, err := engine.New(engine.Config{Profile: tc.profile, Target: job, Clock: vc, Sinks: []engine.Sink{rec}})
	if err != nil {
		t.Fatal(err)
	}
	if tc.early != "" {
		e.Cancel(tc.early)
	}
	for _, in := range parseInputs(t, tc.inputs) {
		vc.AfterFunc(in.At, func() { e.Deliver(in.Signal) })
	}
	res := e.Run(context.Background())
	if diff := cmp.Diff(tc.want, rec.evs); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if res.Outcome != tc.outcome || res.Status != tc.status {
		t.Errorf("result = %s, status %d; want %s, status %d", res.Outcome, res.Status, tc.outcome, tc.status)
	}
}

// TestRealLoop runs the same situations through the real-time drivers
// (one timer per engine on RealClock; the shared heap of a SharedClock)
// inside a synctest bubble, where time is fake but the goroutines, timers
// and channels are the production ones. They must agree with virtual time.
func TestRealLoop(t *testing.T) {
	clocks := []struct {
		name string
		new  func() engine.Clock
	}{
		{"RealClock", func() engine.Clock { return engine.RealClock{} }},
		{"SharedClock", func() engine.Clock { return engine.NewSharedClock() }},
	}
	for _, clk := range clocks {
		for _, tc := range situations() {
			t.Run(clk.name+"/"+tc.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) { realSituation(t, tc, clk.new()) })
			})
		}
	}
}

func realSituation(t *testing.T, tc situation, clock engine.Clock) {
	b, err := sim.ParseBehaviour(tc.job)
	if err != nil {
		t.Fatal(err)
	}
	job := sim.NewJob(b, engine.RealClock{})
	rec := &recorder{}
	e, err := engine.New(engine.Config{Profile: tc.profile, Target: job, Clock: clock, Sinks: []engine.Sink{rec}})
	if err != nil {
		t.Fatal(err)
	}
	if tc.early != "" {
		e.Cancel(tc.early)
	}
	for _, in := range parseInputs(t, tc.inputs) {
		time.AfterFunc(in.At, func() { e.Deliver(in.Signal) })
	}
	res := e.Run(context.Background())
	_, shared := clock.(*engine.SharedClock)
	if tc.tie || (tc.sharedTie && shared) {
		// Either may win the race; exactly one outcome and no action
		// after it.
		last := rec.evs[len(rec.evs)-1]
		if last.To != "done" || strings.Count(strings.Join(states(rec.evs), " "), "done") != 1 {
			t.Errorf("events: %v", rec.evs)
		}
		return
	}
	if diff := cmp.Diff(tc.want, rec.evs); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if res.Outcome != tc.outcome || res.Status != tc.status {
		t.Errorf("result = %s, status %d; want %s, status %d", res.Outcome, res.Status, tc.outcome, tc.status)
	}
}

func states(evs []ev) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.To)
	}
	return out
}

func TestContextEndsTheRun(t *testing.T) {
	for _, clk := range []struct {
		name string
		new  func() engine.Clock
	}{
		{"RealClock", func() engine.Clock { return engine.RealClock{} }},
		{"SharedClock", func() engine.Clock { return engine.NewSharedClock() }},
	} {
		t.Run(clk.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b, _ := sim.ParseBehaviour("never")
				job := sim.NewJob(b, engine.RealClock{})
				rec := &recorder{}
				e, err := engine.New(engine.Config{Profile: processProfile(), Target: job, Clock: clk.new(), Sinks: []engine.Sink{rec}})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 3*s)
				defer cancel()
				res := e.Run(ctx)
				want := []ev{
					{0, "", "running", "start", "", "", ""},
					{3 * s, "running", "done", "context: context deadline exceeded", "abandon", "job", "ok"},
				}
				if diff := cmp.Diff(want, rec.evs); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
				if res.Outcome != engine.OutcomeAbandoned || res.Status != 123 {
					t.Errorf("result = %+v", res)
				}
			})
		})
	}
}

func TestNewRejectsUnusableConfig(t *testing.T) {
	job := sim.NewJob(sim.Behaviour{}, engine.RealClock{})
	bad := processProfile()
	bad.Steps[0].At, bad.Steps[1].At = bad.Steps[1].At, bad.Steps[0].At
	tests := []struct {
		name string
		cfg  engine.Config
	}{
		{"no profile", engine.Config{Target: job}},
		{"no target", engine.Config{Profile: processProfile()}},
		{"steps out of order", engine.Config{Profile: bad, Target: job}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := engine.New(tc.cfg); !errors.Is(err, engine.ErrConfig) {
				t.Errorf("New = %v, want ErrConfig", err)
			}
		})
	}
}

func TestFinalisationEnvironment(t *testing.T) {
	b, _ := sim.ParseBehaviour("ignores-term,exec-takes=1s")
	p := withFinalize(processProfile())
	vc := engine.NewVirtualClock(sim.Start())
	job := sim.NewJob(b, vc)
	e, err := engine.New(engine.Config{Profile: p, Target: job, Clock: vc, Env: []string{"CI=true"}})
	if err != nil {
		t.Fatal(err)
	}
	vc.AfterFunc(2*s, func() { e.Cancel("timeout") })
	res := e.Run(context.Background())
	if res.Status != 124 || res.FinalizeErr != nil {
		t.Fatalf("result = %+v", res)
	}
	execs := job.Execs()
	if len(execs) != 1 {
		t.Fatalf("execs = %v", execs)
	}
	want := []string{
		"CI=true",
		"GRACEFUL_OUTCOME=cancelled",
		"GRACEFUL_EXIT_STATUS=124",
		"GRACEFUL_EXIT_CODE=",
		"GRACEFUL_SIGNAL=SIGKILL",
		"GRACEFUL_REASON=timeout",
		"GRACEFUL_ELAPSED_MS=9000",
		"GRACEFUL_PROFILE=process",
	}
	if diff := cmp.Diff(want, execs[0].Env); diff != "" {
		t.Errorf("finalize env (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"./upload-logs.sh"}, execs[0].Argv); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}
}

// An engine on a PreciseClock runs the same timeline in real time: steps in
// order, none before its due time (a scaled-down process profile, SIGKILL
// at 60ms, deadline 200ms, a job that ignores SIGTERM).
func TestPreciseClockTimeline(t *testing.T) {
	p := processProfile()
	p.Steps[1].At = 60 * time.Millisecond
	p.Deadline = 200 * time.Millisecond
	b, _ := sim.ParseBehaviour("never")
	job := sim.NewJob(b, engine.RealClock{})
	rec := &recorder{}
	e, err := engine.New(engine.Config{Profile: p, Target: job, Clock: engine.PreciseClock{}, Sinks: []engine.Sink{rec}})
	if err != nil {
		t.Fatal(err)
	}
	e.Cancel("test")
	res := e.Run(context.Background())
	var got []string
	var killAt time.Duration
	for _, x := range rec.evs {
		got = append(got, x.To)
		if x.To == "step:terminate" {
			killAt = x.At
		}
	}
	want := []string{"running", "cancelling", "step:interrupt", "step:terminate", "done"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("states (-want +got):\n%s", diff)
	}
	if killAt < 60*time.Millisecond {
		t.Errorf("SIGKILL step at %v, before its due 60ms", killAt)
	}
	if res.Status != 137 {
		t.Errorf("status %d, want 137", res.Status)
	}
}

// clockForSim is a Clock that a simulated job can run on too.
type clockForSim interface {
	engine.Clock
	sim.Clock
}

// signalSpy is a job that records how many events a sink had seen when
// each signal was sent.
type signalSpy struct {
	*sim.Job
	rec  *recorder
	seen []int
}

func (s *signalSpy) Signal(sig string, scope engine.Scope) error {
	s.seen = append(s.seen, len(s.rec.evs))
	return s.Job.Signal(sig, scope)
}

// A cancel's first signal goes out before the sinks hear of the cancel:
// the events of a pass are held until its effects are out, so rendering
// them is not on the way to the kill. They keep their order.
func TestEffectBeforeItsEvents(t *testing.T) {
	for _, clk := range []struct {
		name string
		new  func() clockForSim
	}{
		{"VirtualClock", func() clockForSim { return engine.NewVirtualClock(sim.Start()) }},
		{"PreciseClock", func() clockForSim { return engine.PreciseClock{} }},
	} {
		t.Run(clk.name, func(t *testing.T) {
			c := clk.new()
			p := processProfile()
			p.Steps[1].At = 50 * time.Millisecond
			p.Deadline = time.Second
			b, _ := sim.ParseBehaviour("exits-on-term")
			rec := &recorder{}
			spy := &signalSpy{Job: sim.NewJob(b, c), rec: rec}
			e, err := engine.New(engine.Config{Profile: p, Target: spy, Clock: c, Sinks: []engine.Sink{rec}})
			if err != nil {
				t.Fatal(err)
			}
			e.Cancel("test")
			e.Run(context.Background())
			if len(spy.seen) == 0 || spy.seen[0] != 1 {
				t.Errorf("the sink had %v events when SIGTERM went out, want 1 (only the start)", spy.seen)
			}
			if got := states(rec.evs); len(got) < 3 || got[1] != "cancelling" || got[2] != "step:interrupt" {
				t.Errorf("events %v", got)
			}
		})
	}
}

// slowSignals is a job whose signals take 60 ms to send; quick says
// whether it declares them quick (engine.QuickSignaller).
type slowSignals struct {
	*sim.Job
	quick bool
}

func (s *slowSignals) Signal(sig string, scope engine.Scope) error {
	time.Sleep(60 * time.Millisecond)
	return s.Job.Signal(sig, scope)
}

func (s *slowSignals) QuickSignal(engine.Scope) bool { return s.quick }

// leadJob is a job whose signals are slow (none quick) and which has a
// lead for a tree's SIGKILL (engine.LeadSignaller), as the process runner
// does; it logs both.
type leadJob struct {
	*sim.Job
	kills bool // the lead kills the job, as the group's SIGKILL usually does
	mu    sync.Mutex
	log   []string
}

func (j *leadJob) note(s string) {
	j.mu.Lock()
	j.log = append(j.log, s)
	j.mu.Unlock()
}

func (j *leadJob) Signal(sig string, scope engine.Scope) error {
	if !j.kills {
		time.Sleep(30 * time.Millisecond)
	}
	j.note("signal " + sig + " " + string(scope))
	return j.Job.Signal(sig, scope)
}

func (j *leadJob) SignalLead(sig string, scope engine.Scope) bool {
	if sig != "SIGKILL" || scope != engine.ScopeTree {
		return false
	}
	j.note("lead " + sig + " " + string(scope))
	if j.kills {
		_ = j.Job.Signal(sig, scope)
	}
	return true
}

// The lead of a slow signal goes out from Run's goroutine before the
// whole signal starts on a goroutine of its own: the tree's SIGKILL is
// led before it is sent, and a signal without a lead is only sent.
func TestSlowSignalsAreLed(t *testing.T) {
	p := processProfile()
	p.Steps[1].At = 50 * time.Millisecond
	p.Deadline = time.Second
	b, _ := sim.ParseBehaviour("ignores-term")
	job := &leadJob{Job: sim.NewJob(b, engine.RealClock{})}
	e, err := engine.New(engine.Config{Profile: p, Target: job, Clock: engine.PreciseClock{}})
	if err != nil {
		t.Fatal(err)
	}
	e.Cancel("test")
	e.Run(context.Background())
	job.mu.Lock()
	defer job.mu.Unlock()
	want := []string{"signal SIGTERM group", "lead SIGKILL tree", "signal SIGKILL tree"}
	if diff := cmp.Diff(want, job.log); diff != "" {
		t.Errorf("signals (-want +got):\n%s", diff)
	}
}

// A lead that kills the whole job leaves the whole signal, sent after it,
// nothing to reach: the step still reached the job, and says "ok", not
// "job already stopped" (seen in CI, the process runner's tree SIGKILL
// under a join, whose group kill had taken the whole job).
func TestALeadThatKillsIsTheSignalsResult(t *testing.T) {
	p := processProfile()
	p.Steps[1].At = 50 * time.Millisecond
	p.Deadline = time.Second
	b, _ := sim.ParseBehaviour("ignores-term")
	job := &leadJob{Job: sim.NewJob(b, engine.RealClock{}), kills: true}
	var results []string
	sink := engine.SinkFunc(func(e engine.Event) {
		if e.Action == "signal SIGKILL" {
			results = append(results, e.Result)
		}
	})
	e, err := engine.New(engine.Config{Profile: p, Target: job, Clock: engine.PreciseClock{}, Sinks: []engine.Sink{sink}})
	if err != nil {
		t.Fatal(err)
	}
	e.Cancel("test")
	res := e.Run(context.Background())
	if diff := cmp.Diff([]string{"ok"}, results); diff != "" {
		t.Errorf("the kill step's result (-want +got):\n%s", diff)
	}
	if res.Status != 137 {
		t.Errorf("status %d, want 137", res.Status)
	}
}

// A signal the target calls quick is sent from Run's goroutine and its
// answer waited for, however long it takes (here longer than the 20 ms an
// effect on a goroutine of its own is waited for, after which its event
// says "pending"); any other is sent from a goroutine of its own.
func TestQuickSignalsAreSentInline(t *testing.T) {
	for _, quick := range []bool{true, false} {
		t.Run(fmt.Sprint("quick=", quick), func(t *testing.T) {
			p := processProfile()
			p.Steps[1].At = time.Second
			p.Deadline = 2 * time.Second
			b, _ := sim.ParseBehaviour("exits-on-term")
			rec := &recorder{}
			job := &slowSignals{Job: sim.NewJob(b, engine.RealClock{}), quick: quick}
			e, err := engine.New(engine.Config{Profile: p, Target: job, Clock: engine.PreciseClock{}, Sinks: []engine.Sink{rec}})
			if err != nil {
				t.Fatal(err)
			}
			e.Cancel("test")
			e.Run(context.Background())
			var got string
			for _, x := range rec.evs {
				if x.To == "step:interrupt" {
					got = x.Result
				}
			}
			want := "ok"
			if !quick {
				want = "pending"
			}
			if got != want {
				t.Errorf("step:interrupt result %q, want %q; events %v", got, want, rec.evs)
			}
		})
	}
}
