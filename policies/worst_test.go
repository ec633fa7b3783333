package policies

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// fit returns head, then unit(0), unit(1), ... and tail, with as many
// units as fit in MaxFileSize and under maxTokens, so that a case tests
// its own stage rather than the token limit.
func fit(name, head string, unit func(i int) string, tail string) []byte {
	build := func(n int) []byte {
		var b strings.Builder
		b.WriteString(head)
		for i := range n {
			b.WriteString(unit(i))
		}
		b.WriteString(tail)
		return []byte(b.String())
	}
	lo, hi := 0, MaxFileSize/len(unit(0))+1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		src := build(mid)
		var s limitScan
		if IsJSON(name) {
			s.jsonScan(src)
		} else {
			s.native(src, false)
		}
		if len(src) <= MaxFileSize && s.tokens <= maxTokens {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return build(lo)
}

// worstCases are the largest inputs within the file size and token limits
// built to cost the most per byte in each stage of loading: many tokens,
// locals, profiles and diagnostics, deep nesting just under the limit,
// long lines and large values.
func worstCases() map[string][]byte {
	r := strings.Repeat
	same := func(u string) func(int) string { return func(int) string { return u } }
	prof := `profile "p%d" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "term" {
      at     = "0s"
      signal = "SIGTERM"
    }
    step "kill" {
      at     = "9s"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "10s"
  }
}
`
	bad := `profile "p%d" {
  on "SIGTREM" { actions = ["cancle"] }
  cancel {
    step "a" {
      at = "1x"
      signal = "SIGTERN"
    }
  }
}
`
	dense := `profile "p%d"{
on "SIGTREM"{actions=["cancle"]}
cancel{
step "a"{
at="1x"
signal="SIGTERN"
}
}
}
`
	nest := r("(", maxNesting-4) + "1" + r(")", maxNesting-4)
	return map[string][]byte{
		"tokens.hcl":      fit("tokens.hcl", "locals {\n  x = [", same("[],"), "1]\n}\n"),
		"tokens.hcl.json": fit("tokens.hcl.json", `{"locals": {"x": [`, same("[],"), "1]}}"),
		"numbers.hcl":     fit("numbers.hcl", "locals {\n  x = [", same("1,"), "1]\n}\n"),
		"locals.hcl":      fit("locals.hcl", "locals {\n", func(i int) string { return fmt.Sprintf("  a%d = %d\n", i, i) }, "}\n"),
		"local-chain.hcl": fit("local-chain.hcl", "locals {\n  v0 = \"x\"\n", func(i int) string { return fmt.Sprintf("  v%d = \"${local.v%d}x\"\n", i+1, i) }, "}\n"),
		"nesting.hcl":     fit("nesting.hcl", "locals {\n", func(i int) string { return fmt.Sprintf("  a%d = %s\n", i, nest) }, "}\n"),
		"profiles.hcl":    fit("profiles.hcl", "", func(i int) string { return fmt.Sprintf(prof, i) }, ""),
		"mistakes.hcl":    fit("mistakes.hcl", "", func(i int) string { return fmt.Sprintf(bad, i) }, ""),
		"dense.hcl":       fit("dense.hcl", "", func(i int) string { return fmt.Sprintf(dense, i) }, ""),
		"bad-lines.hcl":   fit("bad-lines.hcl", "", same("x\n"), ""),
		"long-line.hcl":   fit("long-line.hcl", "locals {\n  x = [", same(`"a", `), "nope]\n}\n"),
		"big-values.hcl":  fit("big-values.hcl", "locals {\n  s = format(\"%0250000d\", 1)\n", func(i int) string { return fmt.Sprintf("  c%d = length(local.s)\n", i) }, "}\n"),
		"big-strings.hcl": fit("big-strings.hcl", "locals {\n", func(i int) string { return fmt.Sprintf("  s%d = \"%s\"\n", i, r("x", 60000)) }, "}\n"),
		"comment.hcl":     fit("comment.hcl", "# ", same("("), ""),
	}
}

// measure loads src as Load does for a file and renders the diagnostics,
// as validate does, then formats it, as fmt does. It returns the time
// taken, the bytes allocated and the most heap in use seen, sampled every
// millisecond (a sample can miss a short peak, never invent one).
func measure(name string, src []byte) (elapsed time.Duration, alloc, peak uint64) {
	samples := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	runtime.GC()
	metrics.Read(samples)
	alloc0 := samples[0].Value.Uint64()
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var most uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			most = max(most, s[0].Value.Uint64())
			select {
			case <-stop:
				done <- most
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	pol, diags := LoadSources([]Source{{Name: name, Src: src}}, Options{LookupEnv: noEnv})
	_ = pol.RenderDiagnostics(diags, 78, false)
	_, files, fdiags := Format(name, src)
	_ = RenderDiagnostics(files, fdiags, 78, false)
	elapsed = time.Since(start)
	close(stop)
	peak = <-done
	metrics.Read(samples)
	return elapsed, samples[0].Value.Uint64() - alloc0, peak
}

// TestLoadAnyFileWithinBounds: any file of at most MaxFileSize loads (and
// formats) in bounded time and memory, or is refused. Measured on the
// 2-core machine these take under 0.5 s and 150 MiB each; the bounds are
// generous so that -race and a loaded machine do not make the test flaky,
// while the unbounded behaviour this guards against took minutes or
// gigabytes.
func TestLoadAnyFileWithinBounds(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("loads 1 MiB files and measures time and memory; run without -short and -race")
	}
	for name, src := range worstCases() {
		elapsed, alloc, peak := measure(name, src)
		if elapsed > 20*time.Second || peak > 256<<20 {
			// The sampled peak includes garbage not yet swept, which
			// depends on when the collector ran: measure once more,
			// so only a cost that is really there fails the test.
			e, _, p := measure(name, src)
			elapsed, peak = min(elapsed, e), min(peak, p)
		}
		t.Logf("%s (%d bytes): %s, %d MiB allocated, heap peak %d MiB", name, len(src), elapsed.Round(time.Millisecond), alloc>>20, peak>>20)
		if elapsed > 20*time.Second {
			t.Errorf("%s took %s", name, elapsed)
		}
		if peak > 256<<20 {
			t.Errorf("%s: heap peak %d MiB", name, peak>>20)
		}
	}
}
