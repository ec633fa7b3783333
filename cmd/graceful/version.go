package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// version and commit may be set at link time (-ldflags "-X main.version=v1.2.3
// -X main.commit=SHA", as build/release.sh does). Otherwise the version comes
// from the module's build info and the commit from the VCS stamp in the build
// info. The go command stamps only from a directory named .git, so a build in
// a git worktree (where .git is a file) or with -buildvcs=false has no stamp:
// hence the link-time commit.
var (
	version = ""
	commit  = ""
)

// versionInfo is what `graceful version` prints: the version, the VCS
// commit the binary was built from and the Go toolchain that built it.
type versionInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`
	Modified bool   `json:"modified"` // built from a tree with uncommitted changes
	Go       string `json:"go"`
	Platform string `json:"platform"` // GOOS/GOARCH
}

// readVersionInfo gathers versionInfo from the link-time values and
// runtime/debug's build info; link-time values win. With neither, the
// version is "(devel)" and the commit "unknown".
func readVersionInfo() versionInfo {
	bi, _ := debug.ReadBuildInfo()
	return versionFrom(version, commit, bi)
}

func versionFrom(version, commit string, bi *debug.BuildInfo) versionInfo {
	vi := versionInfo{
		Version:  version,
		Commit:   commit,
		Go:       runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi != nil {
		if vi.Version == "" && bi.Main.Version != "" {
			vi.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			vi.Go = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if vi.Commit == "" {
					vi.Commit = s.Value
				}
			case "vcs.modified":
				vi.Modified = s.Value == "true"
			}
		}
	}
	if vi.Version == "" {
		vi.Version = "(devel)"
	}
	if vi.Commit == "" {
		vi.Commit = "unknown"
	}
	return vi
}

// String is the one line of `graceful version` and `graceful --version`.
func (vi versionInfo) String() string {
	commit := vi.Commit
	if vi.Modified {
		commit += "+modified"
	}
	return fmt.Sprintf("graceful %s (commit %s, %s, %s)", vi.Version, commit, vi.Go, vi.Platform)
}

func newVersionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print graceful's version, commit and Go version",
		Long: `Version prints the version graceful was built as (set at link time with
-ldflags "-X main.version=..." or taken from the module), the commit it was
built from (-X main.commit=..., else the VCS stamp of the build info, else
"unknown"), the Go version and the platform. graceful --version prints the
same line; -json prints the same fields as one JSON object.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if args := cmd.Flags().Args(); len(args) > 0 {
				return withStatus(exitUsage, fmt.Errorf("version takes no arguments (got %q)", args[0]))
			}
			asJSON, _ := cmd.Flags().GetBool("json")
			return printVersion(cmd.OutOrStdout(), asJSON)
		},
	}
	cmd.Flags().Bool("json", false, "print the version as a JSON object (also -json)")
	// -json as well as --json, as validate takes them. A viper of its own:
	// the command reads its one flag straight from the flag set.
	goStyleFlags(cmd, viper.New())
	return cmd
}

func printVersion(w io.Writer, asJSON bool) error {
	vi := readVersionInfo()
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(vi)
	}
	_, err := fmt.Fprintln(w, vi)
	return err
}
