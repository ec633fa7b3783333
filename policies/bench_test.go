package policies

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// benchDir writes n distinct policy files, cycling through the examples
// with their profiles renamed so that all of them load together.
func benchDir(b *testing.B, n int) string {
	b.Helper()
	ex, _ := filepath.Glob("../examples/policies/*.hcl")
	var srcs [][]byte
	for _, f := range ex {
		src, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		srcs = append(srcs, src)
	}
	label := regexp.MustCompile(`profile "([^"]+)"`)
	dir := b.TempDir()
	for i := range n {
		src := label.ReplaceAll(srcs[i%len(srcs)], []byte(fmt.Sprintf(`profile "${1}-%d"`, i)))
		// Keep extends pointing at the renamed profiles of the same file
		// or at the built-ins: only built-ins are extended in the examples.
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("p%04d.hcl", i)), src, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// BenchmarkValidate1000Files loads and validates 1,000 policy files from
// disk in one Load, as `graceful validate DIR` does. One op is all 1,000.
func BenchmarkValidate1000Files(b *testing.B) {
	dir := benchDir(b, 1000)
	b.ResetTimer()
	for b.Loop() {
		pol, diags := Load([]string{dir}, Options{LookupEnv: noEnv})
		if diags.HasErrors() {
			b.Fatal(pol.RenderDiagnostics(diags, 0, false))
		}
		if len(pol.Profiles()) < 1000 {
			b.Fatalf("only %d profiles", len(pol.Profiles()))
		}
	}
}

// BenchmarkFindFile is the cost of Find on one example file (run, explain
// and simulate pay it once at start-up).
func BenchmarkFindFile(b *testing.B) {
	for b.Loop() {
		if _, err := Find("../examples/policies/buildkite.hcl", "buildkite"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFindBuiltin is Find with no policy file.
func BenchmarkFindBuiltin(b *testing.B) {
	for b.Loop() {
		if _, err := Find("", "process"); err != nil {
			b.Fatal(err)
		}
	}
}
