//go:build linux

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunScriptWithoutShebang holds docs/process.md to its word: an
// executable script without "#!" is not run with /bin/sh (as execvp in
// env or timeout would) but refused with 126 and one line that says why.
func TestRunScriptWithoutShebang(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "build.sh")
	marker := filepath.Join(dir, "ran")
	if err := os.WriteFile(script, []byte("touch "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := gracefulCmd("run", "--", script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("graceful did not exit; stderr:\n%s", stderr.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 126 {
		t.Errorf("exit: %v, want status 126; stderr:\n%s", err, stderr.String())
	}
	if want := script + ": not executable: exec format error"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the script ran")
	}
}
