package kubernetes

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestTrimmable(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if !trimmable(exe) {
		t.Errorf("the test binary (a plain Go executable) is not trimmable")
	}
	if trimmable("/nonexistent") {
		t.Error("a missing file is trimmable")
	}
	// A position-independent executable, if the toolchain can build one
	// here, must be left alone (its RELRO pages hold relocations).
	if testing.Short() {
		return
	}
	pie := filepath.Join(t.TempDir(), "pie")
	src := filepath.Join(t.TempDir(), "main.go")
	os.WriteFile(src, []byte("package main\nfunc main() {}\n"), 0o600)
	if out, err := exec.Command("go", "build", "-buildmode=pie", "-o", pie, src).CombinedOutput(); err != nil {
		t.Skipf("cannot build a PIE here: %v\n%s", err, out)
	}
	if trimmable(pie) {
		t.Error("a PIE is trimmable")
	}
}
