//go:build unix

package policies

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// loadPathsWithin is Load with a bound on its duration: a FIFO used to
// block it forever.
func loadPathsWithin(t *testing.T, paths []string, limit time.Duration) string {
	t.Helper()
	done := make(chan string, 1)
	go func() {
		pol, diags := Load(paths, Options{LookupEnv: noEnv})
		done <- pol.RenderDiagnostics(diags, 0, false)
	}()
	select {
	case text := <-done:
		return text
	case <-time.After(limit):
		t.Fatalf("Load(%q) took over %s", paths, limit)
		return ""
	}
}

// TestSpecialFilesRefused: a FIFO among a directory's policy files, a
// symbolic link to a device and a device named directly are refused at
// once, each with one diagnostic naming the file.
func TestSpecialFilesRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.hcl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.hcl"), validPolicy, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(t.TempDir(), "zero.hcl")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path, file, kind string
	}{
		{dir, fifo, "named pipe"},
		{zero, zero, "character device"},
		{"/dev/urandom", "/dev/urandom", "character device"},
	} {
		text := loadPathsWithin(t, []string{tt.path}, 10*time.Second)
		if strings.Count(text, "Error: ") != 1 || !strings.Contains(text, "Error: Not a regular file") || !strings.Contains(text, tt.file+" is a "+tt.kind) {
			t.Errorf("Load(%s): want one refusal of %s as a %s, got:\n%s", tt.path, tt.file, tt.kind, text)
		}
		if pol, _ := Load([]string{tt.file}, Options{LookupEnv: noEnv}); len(pol.Profiles()) != 0 {
			t.Errorf("Load(%s) checked %d profiles, as if no file had been given", tt.file, len(pol.Profiles()))
		}
		if _, err := ReadFile(tt.file); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("ReadFile(%s) = %v, want a refusal", tt.file, err)
		}
	}
}
