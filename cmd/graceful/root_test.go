package main

import (
	"fmt"
	"io"
	"strings"

	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
)

// execRoot runs the command tree in-process and returns the error.
func execRoot(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestConfigFile(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  int
	}{
		{"no config file", nil, exitOK},
		{"a binary named graceful beside it is not a config file",
			map[string]string{"graceful": "\x7fELF\x00\x01\x02garbage"}, exitOK},
		{"graceful.yaml is not read", map[string]string{"graceful.yaml": "profile: nosuch\n"}, exitOK},
		{"a broken graceful.yaml does not matter", map[string]string{"graceful.yaml": "a: [\n"}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Chdir(dir)
			out, err := execRoot(t, "version")
			var got bytes.Buffer
			if code := exitStatus(err, &got); code != tt.want {
				t.Errorf("exit status %d, want %d; output %q %q", code, tt.want, out, got.String())
			}
		})
	}
}

// A `graceful run` command line gets a tree of run alone (commandFor):
// what it prints and how it fails must be what the whole tree does.
func TestRunTreeMatchesTheWholeTree(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--help"},
		{"run", "--bogus"},
		{"run", "--timout", "5s", "--", "true"},
		{"run"},
		{"run", "--profile", "nosuch", "--", "true"},
		{"run", "--cgroup", "sometimes", "--", "true"},
	} {
		exec := func(root *cobra.Command) string {
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(args)
			err := root.Execute()
			return fmt.Sprintf("%s\nerror: %v\nstatus: %d", out.String(), err, exitStatus(err, io.Discard))
		}
		whole := exec(newRootCmd())
		root, done := commandFor(args)
		alone := exec(root)
		done()
		if alone != whole {
			t.Errorf("graceful %s:\nrun's own tree:\n%s\nthe whole tree:\n%s", strings.Join(args, " "), alone, whole)
		}
	}
}
