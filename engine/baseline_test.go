//go:build unix

package engine_test

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkAfterFuncBaseline is the yardstick from the issue: one
// time.AfterFunc per engine, all due at the same moment, each recording
// how late it ran. No engine is involved.
func BenchmarkAfterFuncBaseline(b *testing.B) {
	var late []time.Duration
	for b.Loop() {
		at := make([]time.Time, benchEngines)
		var wg sync.WaitGroup
		wg.Add(benchEngines)
		due := time.Now().Add(200 * time.Millisecond)
		for i := range at {
			time.AfterFunc(time.Until(due), func() { at[i] = time.Now(); wg.Done() })
		}
		wg.Wait()
		for _, t := range at {
			late = append(late, t.Sub(due))
		}
	}
	slices.Sort(late)
	b.ReportMetric(float64(late[len(late)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(late[len(late)*99/100])/1e6, "p99-ms")
}

// BenchmarkTimerGoroutineBaseline: one goroutine blocked on its own timer
// per engine, all due at once, doing nothing but recording the time.
func BenchmarkTimerGoroutineBaseline(b *testing.B) {
	var late []time.Duration
	for b.Loop() {
		at := make([]time.Time, benchEngines)
		var wg sync.WaitGroup
		due := time.Now().Add(300 * time.Millisecond)
		for i := range at {
			wg.Go(func() {
				t := time.NewTimer(time.Until(due))
				<-t.C
				at[i] = time.Now()
			})
		}
		wg.Wait()
		for _, t := range at {
			late = append(late, t.Sub(due))
		}
	}
	slices.Sort(late)
	b.ReportMetric(float64(late[len(late)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(late[len(late)*99/100])/1e6, "p99-ms")
}
