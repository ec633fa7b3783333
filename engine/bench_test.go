//go:build unix

package engine_test

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/graceful-sh/graceful/engine"
)

// memTarget is an in-memory job that ignores SIGTERM and dies of SIGKILL,
// recording when each signal arrived.
type memTarget struct {
	done chan engine.Exit
	at   [2]time.Time // SIGTERM, SIGKILL
}

func newMemTarget() *memTarget { return &memTarget{done: make(chan engine.Exit, 1)} }

func (t *memTarget) Signal(sig string, _ engine.Scope) error {
	now := time.Now()
	if sig == "SIGKILL" {
		t.at[1] = now
		t.done <- engine.Exit{Signal: sig, SignalNumber: 9}
		return nil
	}
	t.at[0] = now
	return nil
}
func (t *memTarget) Notify(string) error                            { return engine.ErrNotSupported }
func (t *memTarget) Abandon() error                                 { return nil }
func (t *memTarget) Exec(context.Context, []string, []string) error { return nil }
func (t *memTarget) Done() <-chan engine.Exit                       { return t.done }

const benchGrace = 200 * time.Millisecond

func benchProfile() *engine.Profile {
	return &engine.Profile{
		Name: "bench",
		Steps: []engine.Step{
			{Name: "interrupt", At: 0, Kind: engine.StepSignal, Signal: "SIGTERM", Scope: engine.ScopeGroup},
			{Name: "terminate", At: benchGrace, Kind: engine.StepSignal, Signal: "SIGKILL", Scope: engine.ScopeTree},
		},
		Deadline: 2 * time.Second,
	}
}

var benchEngines = 10_000

// BenchmarkCancelAtOnce runs 10,000 engines on the real clock, cancels them
// all at the same moment, and reports how late each step ran against its
// due time (t0 = that moment; the SIGKILLs all fall due together
// benchGrace later) and the memory each idle engine holds.
func BenchmarkCancelAtOnce(b *testing.B) {
	b.Run("RealClock", func(b *testing.B) { benchCancel(b, 0, func() engine.Clock { return engine.RealClock{} }) })
	b.Run("SharedClock", func(b *testing.B) { benchCancel(b, 0, sharedClock()) })
}

// sharedClock gives every engine of one run the same SharedClock.
func sharedClock() func() engine.Clock {
	c := engine.NewSharedClock()
	return func() engine.Clock { return c }
}

// BenchmarkCancelSpread spreads the 10,000 cancellations over one second;
// lateness is against each engine's own t0.
func BenchmarkCancelSpread(b *testing.B) {
	b.Run("RealClock", func(b *testing.B) { benchCancel(b, time.Second, func() engine.Clock { return engine.RealClock{} }) })
	b.Run("SharedClock", func(b *testing.B) { benchCancel(b, time.Second, sharedClock()) })
}

func benchCancel(b *testing.B, spread time.Duration, clock func() engine.Clock) {
	if n := os.Getenv("BENCH_ENGINES"); n != "" {
		benchEngines, _ = strconv.Atoi(n)
	}
	p := benchProfile()
	var late0, late1, all0 []time.Duration
	var issue time.Duration
	var perEngine, stackPer float64
	// Process CPU time from the first Cancel to halfway to step 1 (the
	// step 0 burst), and from there to the last Run's return (step 1, the
	// jobs' ends and Run returning).
	var cpuStep0, cpuStep1 time.Duration
	for b.Loop() {
		targets := make([]*memTarget, benchEngines)
		engines := make([]*engine.Engine, benchEngines)
		cancelled := make([]time.Time, benchEngines)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var wg sync.WaitGroup
		for i := range engines {
			targets[i] = newMemTarget()
			e, err := engine.New(engine.Config{Profile: p, Target: targets[i], Clock: clock()})
			if err != nil {
				b.Fatal(err)
			}
			engines[i] = e
			wg.Go(func() { e.Run(context.Background()) })
		}
		time.Sleep(200 * time.Millisecond) // let every loop park in its select
		runtime.GC()
		runtime.ReadMemStats(&after)
		perEngine = float64(after.HeapInuse+after.StackInuse-before.HeapInuse-before.StackInuse) / float64(benchEngines)
		stackPer = float64(after.StackInuse-before.StackInuse) / float64(benchEngines)

		// start is the common moment; for spread runs each engine's
		// own moment is when its Cancel was called.
		cpu0 := cpuTime()
		start := time.Now()
		var cpuMid time.Duration
		mid := time.AfterFunc(benchGrace/2, func() { cpuMid = cpuTime() })
		if spread == 0 {
			for i, e := range engines {
				cancelled[i] = time.Now()
				e.Cancel("bench")
			}
		} else {
			step := spread / time.Duration(benchEngines)
			for i, e := range engines {
				due := start.Add(time.Duration(i) * step)
				if d := time.Until(due); d > time.Millisecond {
					time.Sleep(d)
				}
				cancelled[i] = time.Now()
				e.Cancel("bench")
			}
		}
		issue = max(issue, time.Since(start))
		wg.Wait()
		cpuEnd := cpuTime()
		if !mid.Stop() && spread == 0 {
			cpuStep0 += cpuMid - cpu0
			cpuStep1 += cpuEnd - cpuMid
		}
		for i, t := range targets {
			late0 = append(late0, t.at[0].Sub(cancelled[i]))
			late1 = append(late1, t.at[1].Sub(cancelled[i].Add(benchGrace)))
			if spread == 0 {
				all0 = append(all0, t.at[0].Sub(start))
			}
		}
	}
	report := func(name string, d []time.Duration) {
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2])/1e6, name+"-p50-ms")
		b.ReportMetric(float64(d[len(d)*99/100])/1e6, name+"-p99-ms")
		b.ReportMetric(float64(d[len(d)-1])/1e6, name+"-max-ms")
	}
	report("step0", late0)
	report("step1", late1)
	if spread == 0 {
		// From the common moment, including the time taken to call
		// Cancel 10,000 times.
		report("step0-from-moment", all0)
		b.ReportMetric(float64(issue)/1e6, "issue-ms")
	}
	if spread == 0 {
		// CPU time is less sensitive to the machine's other load than
		// lateness: the work one engine costs in each burst, all
		// goroutines included.
		b.ReportMetric(float64(cpuStep0)/float64(b.N*benchEngines)/1e3, "cpu0-µs/engine")
		b.ReportMetric(float64(cpuStep1)/float64(b.N*benchEngines)/1e3, "cpu1-µs/engine")
	}
	b.ReportMetric(perEngine, "B/engine")
	b.ReportMetric(stackPer, "stack-B/engine")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEngineLifecycle is the CPU cost of one engine from New to the
// end of Run: cancel, SIGTERM, SIGKILL (at 0s here), job death, done.
func BenchmarkEngineLifecycle(b *testing.B) {
	p := benchProfile()
	p.Steps[1].At = 0
	b.ReportAllocs()
	for b.Loop() {
		e, err := engine.New(engine.Config{Profile: p, Target: newMemTarget()})
		if err != nil {
			b.Fatal(err)
		}
		e.Cancel("bench")
		e.Run(context.Background())
	}
}
