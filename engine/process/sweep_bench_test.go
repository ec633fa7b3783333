//go:build linux

package process

import (
	"os"
	"testing"
)

// BenchmarkJobTree walks a job of 100 processes (half escaped with setsid)
// as the no-cgroup sweep does on every round.
func BenchmarkJobTree(b *testing.B) {
	j := startBenchJob(b, 100)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n := len(jobTree(os.Getpid(), j.leader)); n < 100 {
			b.Fatalf("tree of %d", n)
		}
	}
}

// BenchmarkScanProcs is the fallback without children files: every
// process's stat.
func BenchmarkScanProcs(b *testing.B) {
	j := startBenchJob(b, 100)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n := len(sweepTree(scanProcs(), os.Getpid(), j.leader)); n < 100 {
			b.Fatalf("tree of %d", n)
		}
	}
}

func startBenchJob(b *testing.B, n int) *Runner {
	b.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	r, err := Start(Options{Args: []string{"/bin/sh", "-c", treeScript(n)}, Stdout: pw, Cgroup: CgroupOff})
	pw.Close()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := r.Close(5e9); err != nil {
			b.Error(err)
		}
		pr.Close()
	})
	buf := make([]byte, 1)
	for got := 0; got < n+1; {
		if _, err := pr.Read(buf); err != nil {
			b.Fatal(err)
		}
		if buf[0] == 'R' {
			got++
		}
	}
	return r
}

// BenchmarkStartTrue is the runner's share of `graceful run -- /bin/true`:
// Start, the job's end, Close.
func BenchmarkStartTrue(b *testing.B) {
	for _, m := range []CgroupMode{CgroupOn, CgroupOff} {
		b.Run("cgroup "+string(m), func(b *testing.B) {
			for b.Loop() {
				r, err := Start(Options{Args: []string{"/bin/true"}, Cgroup: m})
				if err != nil {
					b.Fatal(err)
				}
				<-r.Done()
				if err := r.Close(5e9); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCgroup is the creation and removal of the job's cgroup leaf.
func BenchmarkCgroup(b *testing.B) {
	for b.Loop() {
		cg, err := newCgroup()
		if err != nil {
			b.Skip(err)
		}
		if err := cg.remove(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRemoveStale is the look for stale leaves beside the job's that
// every run with a leaf makes while its job runs (none to remove).
func BenchmarkRemoveStale(b *testing.B) {
	cg, err := newCgroup()
	if err != nil {
		b.Skip(err)
	}
	defer cg.remove()
	for b.Loop() {
		removeStaleBeside(cg.dir)
	}
}
