//go:build linux

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstall runs graceful install as a real process (the test binary as
// graceful) and checks the copy: the same bytes as the running executable,
// mode 0755, no temporary file left, and it runs.
func TestInstall(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) // prepares dir/..., may be nil
		dir   string                         // relative to the temp dir
	}{
		{"into an existing empty directory", nil, "bin"},
		{"creates missing directories", nil, "a/b/bin"},
		{"replaces an older graceful", func(t *testing.T, dir string) {
			installWriteFile(t, filepath.Join(dir, "graceful"), "old graceful", 0o700)
		}, "bin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, tt.dir)
			if tt.setup != nil {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				tt.setup(t, dir)
			}
			cmd := gracefulCmd("install", dir)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("graceful install %s: %v; stderr %q", dir, err, stderr.String())
			}
			dst := filepath.Join(dir, "graceful")
			if got := stdout.String(); got != "graceful: installed "+dst+"\n" {
				t.Errorf("stdout %q, want it to name %s", got, dst)
			}
			fi, err := os.Stat(dst)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != 0o755 {
				t.Errorf("mode %v, want -rwxr-xr-x", fi.Mode())
			}
			got, err := os.ReadFile(dst)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: %d bytes differing from the executable's %d", dst, len(got), len(want))
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Errorf("%s holds %v, want only graceful (a temporary file left?)", dir, dirNames(entries))
			}

			// The copy is graceful: it runs and knows itself.
			run := gracefulCmd("version")
			run.Path, run.Args[0] = dst, dst
			out, err := run.CombinedOutput()
			if err != nil || !strings.HasPrefix(string(out), "graceful ") {
				t.Errorf("installed copy: graceful version: %v, output %q", err, out)
			}
		})
	}
}

func TestInstallErrors(t *testing.T) {
	base := t.TempDir()
	aFile := filepath.Join(base, "file")
	installWriteFile(t, aFile, "not a directory", 0o644)
	occupied := filepath.Join(base, "occupied")
	if err := os.MkdirAll(filepath.Join(occupied, "graceful"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		wantErr string // in the one line on stderr
	}{
		{"no directory", []string{"install"}, "want one directory, got 0 arguments"},
		{"two directories", []string{"install", base, base}, "want one directory, got 2 arguments"},
		{"unknown flag", []string{"install", "--force", base}, "unknown flag: --force"},
		{"DIR is a file", []string{"install", aFile}, "not a directory"},
		{"DIR below a file", []string{"install", filepath.Join(aFile, "bin")}, "not a directory"},
		{"DIR/graceful is a directory", []string{"install", occupied}, "graceful is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := execRoot(t, tt.args...)
			var stderr bytes.Buffer
			code := exitStatus(err, &stderr)
			if code != exitInternal {
				t.Errorf("exit status %d, want %d", code, exitInternal)
			}
			if !strings.HasPrefix(stderr.String(), "graceful: install: ") || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr %q, want \"graceful: install: ...%s...\"", stderr.String(), tt.wantErr)
			}
		})
	}
	// Nothing was written anywhere: no temporary files beside the target.
	entries, err := os.ReadDir(occupied)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("%s holds %v after a failed install, want only graceful/", occupied, dirNames(entries))
	}
}

// TestInstallKeepsOldOnFailure checks that a failed copy leaves the
// existing DIR/graceful untouched and no temporary file behind.
func TestInstallKeepsOldOnFailure(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "graceful")
	installWriteFile(t, old, "old graceful", 0o755)
	// A directory cannot be read as a file: io.Copy fails part-way.
	if _, err := installExecutable(t.TempDir(), dir); err == nil {
		t.Fatal("installExecutable of a directory succeeded")
	}
	if got, err := os.ReadFile(old); err != nil || string(got) != "old graceful" {
		t.Errorf("%s after a failed install: %q, %v; want it unchanged", old, got, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("%s holds %v, want only graceful", dir, dirNames(entries))
	}
}

func installWriteFile(t *testing.T, name, body string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(name, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}

func dirNames(entries []os.DirEntry) []string {
	var s []string
	for _, e := range entries {
		s = append(s, e.Name())
	}
	return s
}
