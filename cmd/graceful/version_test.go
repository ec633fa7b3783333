package main

import (
	"bytes"
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestVersionFrom(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	stamped := &debug.BuildInfo{
		GoVersion: "go1.99.1",
		Main:      debug.Module{Path: "github.com/graceful-sh/graceful", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123abcd"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	tests := []struct {
		name            string
		version, commit string
		bi              *debug.BuildInfo
		want            versionInfo
	}{
		{"no build info, nothing linked", "", "", nil,
			versionInfo{"(devel)", "unknown", false, runtime.Version(), platform}},
		{"a devel build without a VCS stamp", "", "",
			&debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "(devel)"}},
			versionInfo{"(devel)", "unknown", false, "go1.99.1", platform}},
		{"module version and VCS stamp from the build info", "", "", stamped,
			versionInfo{"v1.2.3", "0123abcd", true, "go1.99.1", platform}},
		{"-X main.version and -X main.commit win over the build info", "v2.0.0", "feedbeef", stamped,
			versionInfo{"v2.0.0", "feedbeef", true, "go1.99.1", platform}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := versionFrom(tt.version, tt.commit, tt.bi)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("versionFrom (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVersionString(t *testing.T) {
	vi := versionInfo{"v1.2.3", "0123abcd", true, "go1.99.1", "linux/arm64"}
	want := "graceful v1.2.3 (commit 0123abcd+modified, go1.99.1, linux/arm64)"
	if got := vi.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// setLinked sets the link-time version and commit for one test, as
// -ldflags "-X main.version=... -X main.commit=..." would.
func setLinked(t *testing.T, v, c string) {
	t.Helper()
	oldV, oldC := version, commit
	version, commit = v, c
	t.Cleanup(func() { version, commit = oldV, oldC })
}

func TestVersionCommands(t *testing.T) {
	setLinked(t, "v9.8.7-test", "c0ffee00")
	want := "graceful v9.8.7-test (commit c0ffee00"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, err := execRoot(t, args...)
			if err != nil {
				t.Fatalf("%v: %v", args, err)
			}
			if !strings.HasPrefix(out, want) || !strings.Contains(out, runtime.Version()) || strings.Count(out, "\n") != 1 {
				t.Errorf("%v printed %q, want one line starting %q and naming %s", args, out, want, runtime.Version())
			}
		})
	}
}

func TestVersionJSON(t *testing.T) {
	setLinked(t, "v9.8.7-test", "c0ffee00")
	for _, flag := range []string{"-json", "--json"} {
		t.Run(flag, func(t *testing.T) {
			out, err := execRoot(t, "version", flag)
			if err != nil {
				t.Fatalf("version %s: %v", flag, err)
			}
			var got map[string]any
			dec := json.NewDecoder(strings.NewReader(out))
			dec.UseNumber()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("version %s printed %q, not a JSON object: %v", flag, out, err)
			}
			want := map[string]any{
				"version":  "v9.8.7-test",
				"commit":   "c0ffee00",
				"modified": got["modified"], // depends on how the test binary was built
				"go":       runtime.Version(),
				"platform": runtime.GOOS + "/" + runtime.GOARCH,
			}
			if _, ok := got["modified"].(bool); !ok {
				t.Errorf("modified = %#v, want a boolean", got["modified"])
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("version %s (-want +got):\n%s", flag, diff)
			}
		})
	}
}

func TestVersionUsage(t *testing.T) {
	for _, args := range [][]string{{"version", "extra"}, {"version", "-x"}} {
		_, err := execRoot(t, args...)
		var stderr bytes.Buffer
		if code := exitStatus(err, &stderr); code != exitUsage {
			t.Errorf("%v: exit status %d, want %d (usage); stderr %q", args, code, exitUsage, stderr.String())
		}
	}
}
