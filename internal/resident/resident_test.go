//go:build linux

package resident

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// rssFile is this process's file-backed resident set, in KiB.
func rssFile(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

func TestTrimDropsExecutablePages(t *testing.T) {
	exe, err := os.Executable()
	if err != nil || !trimmable(exe) {
		t.Skip("test binary not trimmable")
	}
	before := rssFile(t)
	Trim()
	after := rssFile(t)
	if after >= before {
		t.Errorf("RssFile %d KiB before Trim, %d KiB after: nothing dropped", before, after)
	}
	// The program goes on working: the dropped pages fault back in.
	if got := strconv.Itoa(42); got != "42" {
		t.Errorf("after Trim, strconv.Itoa(42) = %q", got)
	}
}
