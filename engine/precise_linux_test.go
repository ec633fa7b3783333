package engine

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestKernelTimer(t *testing.T) {
	start := time.Now()
	tm := newKernelTimer()
	if tm == nil {
		t.Skip("no timerfd here")
	}
	defer closeTimer(tm)
	if tm.Stop() {
		t.Error("a new kernel timer reports itself armed")
	}
	tm.Reset(20 * time.Millisecond)
	select {
	case at := <-tm.C():
		if d := at.Sub(start); d < 20*time.Millisecond {
			t.Errorf("fired after %v, before its 20ms", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a 20ms kernel timer did not fire in 10s")
	}
	if tm.Stop() {
		t.Error("Stop of a fired timer reports it pending")
	}
	tm.Reset(time.Hour)
	if !tm.Stop() {
		t.Error("Stop of an armed timer reports it not pending")
	}
	select {
	case <-tm.C():
		t.Error("a stopped timer fired")
	case <-time.After(50 * time.Millisecond):
	}
	tm.Reset(0) // at once
	select {
	case <-tm.C():
	case <-time.After(10 * time.Second):
		t.Fatal("Reset(0) did not fire")
	}
}

// The loop timer of an engine on a PreciseClock is a kernel timer, and on
// any other clock the clock's own.
func TestLoopTimerKind(t *testing.T) {
	k := loopTimer(PreciseClock{}, time.Hour, &spareTimer{})
	defer closeTimer(k)
	if _, ok := k.(*kernelTimer); !ok {
		t.Errorf("PreciseClock's loop timer is %T, want *kernelTimer", k)
	}
	r := loopTimer(RealClock{}, time.Hour, &spareTimer{})
	defer closeTimer(r)
	if _, ok := r.(realTimer); !ok {
		t.Errorf("RealClock's loop timer is %T, want realTimer", r)
	}
}

// finishJob is a job that takes signals without a word and ends when
// told to.
type finishJob struct{ done chan Exit }

func (j *finishJob) Signal(string, Scope) error { return nil }
func (j *finishJob) Notify(string) error        { return ErrNotSupported }
func (j *finishJob) Abandon() error {
	select {
	case j.done <- Exit{Abandoned: true}:
	default:
	}
	return nil
}
func (j *finishJob) Exec(context.Context, []string, []string) error { return nil }
func (j *finishJob) Done() <-chan Exit                              { return j.done }

// On a PreciseClock the real driver sleeps the last stretch before a step
// on its own thread (finish), and no step is ever taken before it is due.
func TestFinishNeverEarly(t *testing.T) {
	offsets := []time.Duration{0, 3 * time.Millisecond, 7 * time.Millisecond, 20 * time.Millisecond, 45 * time.Millisecond}
	p := &Profile{
		Name: "finish", Runner: RunnerProcess,
		Triggers: map[string][]Action{"SIGTERM": {ActionCancel}},
		Deadline: time.Second,
	}
	for i, at := range offsets {
		p.Steps = append(p.Steps, Step{Name: fmt.Sprint("s", i), At: at, Kind: StepSignal, Signal: "SIGTERM", Scope: ScopeGroup})
	}
	job := &finishJob{done: make(chan Exit, 1)}
	var mu sync.Mutex
	var evs []Event
	sink := SinkFunc(func(e Event) {
		mu.Lock()
		evs = append(evs, e)
		mu.Unlock()
	})
	e, err := New(Config{Profile: p, Target: job, Clock: PreciseClock{}, Sinks: []Sink{sink}})
	if err != nil {
		t.Fatal(err)
	}
	before := finishes.Load()
	e.Cancel("test")
	time.AfterFunc(80*time.Millisecond, func() { job.done <- Exit{} })
	e.Run(context.Background())
	mu.Lock()
	defer mu.Unlock()
	seen := 0
	for _, ev := range evs {
		for i, at := range offsets {
			if ev.To == fmt.Sprint("step:s", i) {
				seen++
				if ev.Since < at {
					t.Errorf("step s%d taken at %v, before its %v", i, ev.Since, at)
				}
			}
		}
	}
	if seen != len(offsets) {
		t.Errorf("%d steps taken, want %d: %v", seen, len(offsets), evs)
	}
	if finishes.Load() == before {
		t.Error("the driver never finished a wait with a sleep of its own")
	}
}

// quickFinishJob is a finishJob whose group signals are quick
// (QuickSignaller): the pass that sends one has its events flushed
// eventLag later, a wake-up of the loop of its own.
type quickFinishJob struct{ finishJob }

func (*quickFinishJob) QuickSignal(Scope) bool { return true }

// The deadline is not finished with a sleep (a job's end that comes just
// before it must be taken first). The cancel's quick signal has the loop
// wake eventLag (1 ms) later to flush its events, within a millisecond
// of the deadline at 1.8 ms: that wake must not sleep to the deadline.
func TestFinishOnlySteps(t *testing.T) {
	p := &Profile{
		Name: "deadline", Runner: RunnerProcess,
		Triggers: map[string][]Action{"SIGTERM": {ActionCancel}},
		Steps:    []Step{{Name: "interrupt", At: 0, Kind: StepSignal, Signal: "SIGTERM", Scope: ScopeGroup}},
		Deadline: 1800 * time.Microsecond,
	}
	job := &quickFinishJob{finishJob{done: make(chan Exit, 1)}}
	sink := SinkFunc(func(Event) {}) // events to flush: the wake at eventLag
	e, err := New(Config{Profile: p, Target: job, Clock: PreciseClock{}, Sinks: []Sink{sink}})
	if err != nil {
		t.Fatal(err)
	}
	before := finishes.Load()
	time.AfterFunc(5*time.Millisecond, func() { e.Cancel("test") }) // in a pass of its own
	e.Run(context.Background())
	if n := finishes.Load() - before; n != 0 {
		t.Errorf("slept %d times to the deadline, want none", n)
	}
}

// Rehearse makes the loop's kernel timer ready on a PreciseClock: the pass
// of the first cancel arms that one rather than making its own while the
// job reacts to its signal, and Run closes it at the end. A spare the loop
// never took is closed too, and a rehearsal after Run makes none.
func TestRehearseReadiesTheLoopTimer(t *testing.T) {
	p := &Profile{
		Name: "spare", Runner: RunnerProcess,
		Triggers: map[string][]Action{"SIGTERM": {ActionCancel}},
		Steps: []Step{
			{Name: "term", At: 0, Kind: StepSignal, Signal: "SIGTERM", Scope: ScopeGroup},
			{Name: "kill", At: time.Hour, Kind: StepSignal, Signal: "SIGKILL", Scope: ScopeGroup},
		},
		Deadline: 2 * time.Hour,
	}
	start := func(cancel bool) (*Engine, *kernelTimer, *finishJob, chan Result) {
		job := &finishJob{done: make(chan Exit, 1)}
		e, err := New(Config{Profile: p, Target: job, Clock: PreciseClock{}})
		if err != nil {
			t.Fatal(err)
		}
		e.Rehearse()
		spare, ok := e.impl.spare.t.(*kernelTimer)
		if !ok {
			t.Fatalf("after Rehearse the spare is %T, want *kernelTimer", e.impl.spare.t)
		}
		done := make(chan Result, 1)
		go func() { done <- e.Run(context.Background()) }()
		if cancel {
			e.Deliver("SIGTERM")
		}
		return e, spare, job, done
	}
	armed := func(k *kernelTimer) bool {
		var v unix.ItimerSpec
		if err := unix.TimerfdGettime(k.fd, &v); err != nil {
			t.Fatalf("timerfd_gettime: %v", err)
		}
		return v.Value.Sec != 0 || v.Value.Nsec != 0
	}
	closed := func(k *kernelTimer) bool { // "use of closed file"
		return k.f.SetReadDeadline(time.Now()) != nil
	}

	// Cancelled: the loop arms the spare for the kill step's wake-up.
	e, spare, job, done := start(true)
	for end := time.Now().Add(10 * time.Second); !armed(spare); {
		if time.Now().After(end) {
			t.Fatal("the cancelled engine did not arm the rehearsal's timer in 10s")
		}
		time.Sleep(time.Millisecond)
	}
	job.done <- Exit{Signal: "SIGTERM"}
	<-done
	if !closed(spare) {
		t.Error("the loop's timer is open after Run")
	}
	e.Rehearse()
	if e.impl.spare.t != nil {
		t.Error("a rehearsal after Run made a timer")
	}

	// Not cancelled: the spare is never taken, and closed at the end.
	_, spare, job, done = start(false)
	job.done <- Exit{}
	<-done
	if !closed(spare) {
		t.Error("the spare nobody took is open after Run")
	}
}

// TestSleepUntilTimerSlack checks that the finishing sleep runs with a
// timer slack of 1 ns and leaves its thread's slack as it found it: a
// process forked from the thread later inherits the slack.
func TestSleepUntilTimerSlack(t *testing.T) {
	slackOf := func(tid int) (int, error) {
		// Per thread only at /proc/TID (not under task/).
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/timerslack_ns", tid))
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(strings.TrimSpace(string(b)))
	}
	tids := make(chan int, 1)
	done := make(chan [2]int, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		// A slack of our own, as a parent may have given graceful.
		if err := unix.Prctl(unix.PR_SET_TIMERSLACK, 70_000, 0, 0, 0); err != nil {
			t.Errorf("set slack: %v", err)
		}
		own := func() int {
			n, _ := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
			return n
		}
		before := own()
		tids <- unix.Gettid()
		sleepUntil(50 * time.Millisecond)
		after := own()
		done <- [2]int{before, after}
	}()
	// The sleeper's slack as seen from beside it (reading another
	// thread's needs CAP_SYS_NICE).
	tid := <-tids
	least, seen := -1, false
	var readErr error
	for deadline := time.Now().Add(40 * time.Millisecond); time.Now().Before(deadline); {
		n, err := slackOf(tid)
		if err != nil {
			readErr = err
			break
		}
		if !seen || n < least {
			least, seen = n, true
		}
		if n == 1 {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	got := <-done
	if got[0] != 70_000 || got[1] != got[0] {
		t.Fatalf("slack before the sleep %d ns, after %d ns; want 70000 both", got[0], got[1])
	}
	switch {
	case readErr != nil:
		t.Logf("the slack during the sleep not checked: %v", readErr)
	case least != 1:
		t.Fatalf("slack during the sleep at least %d ns; want 1", least)
	}
}
