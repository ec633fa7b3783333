//go:build linux

package kubernetes

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// interruptRound starts a pod of one coordinator and n job containers (in
// parallel, each in a PID namespace of its own when possible), waits until
// every job is ready, sends SIGTERM to the coordinator alone (with
// sidecar, to the job containers alone, as the kubelet does first when the
// coordinator is a native sidecar, KEP-753) and returns,
// per job, the time from that kill(2) to the job's receipt of SIGTERM
// (CLOCK_MONOTONIC is shared by all namespaces). It also returns the
// memory of the coordinator and of the largest join while the jobs run.
func interruptRound(b *testing.B, n int, sidecar bool) (lat []time.Duration, coordMem, joinMem memory) {
	p := newPod(b)
	coord := p.coordinator("GK_COUNT="+strconv.Itoa(n), "GK_PARALLEL=1")
	files := make([]string, n)
	joins := make([]*container, n)
	for i := range n {
		files[i] = filepath.Join(p.dir, fmt.Sprintf("job%d", i))
		joins[i] = p.join(fmt.Sprintf("j%d", i), nil, jobArgv("trap", files[i], "0")...)
	}
	for _, f := range files {
		waitFile(b, f, "ready")
	}
	coordMem = memoryOf(coord.init)
	for _, j := range joins {
		joinMem = joinMem.max(memoryOf(j.init))
	}

	t0 := monotonic()
	if sidecar {
		for _, j := range joins {
			syscall.Kill(j.init, syscall.SIGTERM)
		}
	} else {
		syscall.Kill(coord.init, syscall.SIGTERM)
	}
	for _, f := range files {
		waitFile(b, f, "terminated")
		for _, l := range lines(f) {
			if ns, ok := strings.CutPrefix(l, "terminated "); ok {
				v, _ := strconv.ParseInt(ns, 10, 64)
				lat = append(lat, time.Duration(v-t0))
			}
		}
	}
	coord.wait(b, 10*time.Second)
	for _, j := range joins {
		j.wait(b, 10*time.Second)
	}
	return lat, coordMem, joinMem
}

// memory is a process's resident set now (VmRSS) and at its peak (VmHWM),
// in KiB.
type memory struct{ rss, peak int }

func (m memory) max(o memory) memory { return memory{max(m.rss, o.rss), max(m.peak, o.peak)} }

func memoryOf(pid int) memory {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	var m memory
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(l, ":")
		n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		switch k {
		case "VmRSS":
			m.rss = n
		case "VmHWM":
			m.peak = n
		}
	}
	return m
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p)
	return s[i]
}

func reportLatency(b *testing.B, all, worst []time.Duration, coord, join memory) {
	b.ReportMetric(float64(percentile(all, 0.5).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(all, 0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(slices.Max(worst).Microseconds()), "max-µs")
	b.ReportMetric(float64(coord.rss), "coordinator-rss-KiB")
	b.ReportMetric(float64(coord.peak), "coordinator-peak-KiB")
	b.ReportMetric(float64(join.rss), "join-rss-KiB")
	b.ReportMetric(float64(join.peak), "join-peak-KiB")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkInterruptLatency: SIGTERM to the coordinator until SIGTERM
// reaches the job process in another PID namespace. Run with
// -benchtime=100x for a meaningful 99th percentile.
func BenchmarkInterruptLatency(b *testing.B) {
	var all []time.Duration
	var coordMem, joinMem memory
	for range b.N {
		lat, c, j := interruptRound(b, 1, false)
		all = append(all, lat...)
		coordMem, joinMem = coordMem.max(c), joinMem.max(j)
	}
	reportLatency(b, all, all, coordMem, joinMem)
}

// BenchmarkInterrupt16: 16 job containers against one coordinator; the
// max is the slowest of the 16 in the worst round.
func BenchmarkInterrupt16(b *testing.B) {
	var all, worst []time.Duration
	var coordMem, joinMem memory
	for range b.N {
		lat, c, j := interruptRound(b, 16, false)
		all = append(all, lat...)
		worst = append(worst, slices.Max(lat))
		coordMem, joinMem = coordMem.max(c), joinMem.max(j)
	}
	reportLatency(b, all, worst, coordMem, joinMem)
}

// BenchmarkInterruptSidecar: the coordinator as a native sidecar. SIGTERM
// goes to the job container (its join) only, which reports it; the
// coordinator cancels and interrupts the job, which its join then
// signals. From the kubelet's kill(2) to the job's receipt of SIGTERM.
func BenchmarkInterruptSidecar(b *testing.B) {
	var all []time.Duration
	var coordMem, joinMem memory
	for range b.N {
		lat, c, j := interruptRound(b, 1, true)
		all = append(all, lat...)
		coordMem, joinMem = coordMem.max(c), joinMem.max(j)
	}
	reportLatency(b, all, all, coordMem, joinMem)
}
