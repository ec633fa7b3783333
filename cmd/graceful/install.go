package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// newInstallCmd builds `graceful install DIR`.
func newInstallCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "install DIR",
		Short: "Copy this graceful executable to DIR/graceful",
		Long: `Install copies the running graceful executable to DIR/graceful, mode 0755,
creating DIR if needed. It is for images without a shell: an init container
of the graceful image runs "graceful install /graceful/bin" to put graceful
on a volume that the job containers share.

The copy is atomic: it is written to a temporary file in DIR, synced and
renamed over DIR/graceful, so a reader sees the old file or the complete new
one, never a partial one. Exit status 0 on success, 125 on any failure
(usage included), with one line on stderr saying what failed.`,
		Example: `  graceful install /graceful/bin`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return withStatus(exitInternal, fmt.Errorf("install: want one directory, got %d arguments\nUsage: graceful install DIR", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			self, err := os.Executable()
			if err != nil {
				return withStatus(exitInternal, fmt.Errorf("install: cannot find my own executable: %w", err))
			}
			dst, err := installExecutable(self, args[0])
			if err != nil {
				return withStatus(exitInternal, fmt.Errorf("install: %w", err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "graceful: installed %s\n", dst)
			return nil
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return withStatus(exitInternal, fmt.Errorf("install: %w\nRun 'graceful install --help' for usage", err))
	})
	return cmd
}

// installExecutable copies the file src to dir/graceful, mode 0755, and
// returns the path written. dir is created (0755) if it does not exist. The
// copy goes to a temporary file in dir, is synced and then renamed into
// place, so dir/graceful is never seen half-written; on failure the
// temporary file is removed and dir/graceful is left as it was.
func installExecutable(src, dir string) (dst string, err error) {
	if dir == "" {
		return "", errors.New("empty directory name")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	dst = filepath.Join(dir, "graceful")
	if fi, err := os.Lstat(dst); err == nil && fi.IsDir() {
		return "", fmt.Errorf("%s is a directory", dst)
	}

	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()

	tmp, err := os.CreateTemp(dir, ".graceful-install-*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = io.Copy(tmp, in); err != nil {
		return "", fmt.Errorf("copying %s to %s: %w", src, dir, err)
	}
	// CreateTemp made it 0600; chmod the descriptor, so no umask applies.
	if err = tmp.Chmod(0o755); err != nil {
		return "", err
	}
	if err = tmp.Sync(); err != nil {
		return "", err
	}
	if err = tmp.Close(); err != nil {
		return "", err
	}
	if err = os.Rename(tmp.Name(), dst); err != nil {
		return "", err
	}
	// Make the rename itself durable. Not every file system can sync a
	// directory; the file is in place either way.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return dst, nil
}
