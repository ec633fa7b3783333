//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
)

// gracefulEnv runs the test binary as graceful with args in dir, with env
// added to the helper environment, and returns its exit status and
// combined output.
func gracefulEnv(t *testing.T, dir string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := gracefulCmd(args...)
	cmd.Env = append(cmd.Env, env...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A graceful that hangs (reading /dev/zero, say) fails the test.
	timer := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
	err := cmd.Wait()
	if !timer.Stop() {
		t.Errorf("graceful %s did not exit within 20 s", strings.Join(args, " "))
	}
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// writeFile writes body to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A graceful.yaml in the working directory is no configuration of
// graceful's: only run and join read a settings file, and only the one
// --config or GRACEFUL_CONFIG names. So whatever ./graceful.yaml holds,
// every command works as without it.
func TestWorkingDirectoryGracefulYAMLIsNotRead(t *testing.T) {
	examples, err := filepath.Abs("../../examples/policies")
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"a: [\n", "timeout: 1ns\n", "profile: nosuch\n", "format: mermaid\n"} {
		dir := t.TempDir()
		writeFile(t, dir, "graceful.yaml", body)
		for _, args := range [][]string{
			{"version"},
			{"profiles"},
			{"explain"},
			{"validate", examples},
			{"simulate"},
			{"run", "--", "/bin/sh", "-c", "sleep 0.2; echo job done"},
		} {
			code, out := gracefulEnv(t, dir, nil, args...)
			if code != 0 || strings.Contains(out, "graceful.yaml") {
				t.Errorf("graceful.yaml %q: graceful %s: exit %d, want 0 and no word of graceful.yaml:\n%s", body, strings.Join(args, " "), code, out)
			}
		}
	}
}

// Every error a settings file causes names the file (and the line).
func TestConfigFileErrorsNameTheFile(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"not YAML", "a: [\n", []string{"cfg.yaml:"}},
		{"misspelt key", "profile: process\ntimout: 5s\n", []string{`cfg.yaml:2: unknown key "timout"; did you mean "timeout"?`}},
		{"a duration without a unit", "timeout: 600\n", []string{"cfg.yaml:1: timeout: 600: a duration needs a unit, e.g. 600s"}},
		{"a key of join's given to run", "oom-score-adj: 500\n", []string{`cfg.yaml:1: "oom-score-adj" is a setting of graceful join, not of graceful run`}},
		{"not a mapping", "- timeout: 5s\n", []string{"cfg.yaml:1: ", "key: value"}},
		{"a key twice", "timeout: 5s\ntimeout: 6s\n", []string{"cfg.yaml:2: ", "timeout", "line 1"}},
		{"a list for a single value", "timeout: [5s, 6s]\n", []string{"cfg.yaml:1: timeout: ", "one value"}},
		{"no value", "timeout:\n", []string{"cfg.yaml:1: timeout: "}},
		{"a bad cgroup mode", "cgroup: maybe\n", []string{"cfg.yaml:1: cgroup: maybe: "}},
		{"a boolean that is not true or false", "verbose: yes\n", []string{"cfg.yaml:1: verbose: yes: "}},
		{"two documents", "timeout: 5s\n---\ntimeout: 6s\n", []string{"cfg.yaml:", "one mapping"}},
		{"a mapping for a value", "timeout:\n  run: 5s\n", []string{"cfg.yaml:1: timeout: ", "not a mapping"}},
		{"a key that is no word", "[a, b]: 5s\n", []string{"cfg.yaml:1: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFile(t, dir, "cfg.yaml", tt.body)
			code, out := gracefulEnv(t, dir, nil, "run", "--config", "cfg.yaml", "--", "/bin/true")
			if code != exitInternal {
				t.Errorf("exit %d, want %d; output:\n%s", code, exitInternal, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// A missing or special settings file is an error naming where its name
// came from.
func TestConfigFileMissing(t *testing.T) {
	dir := t.TempDir()
	code, out := gracefulEnv(t, dir, nil, "run", "--config", "nosuch.yaml", "--", "/bin/true")
	if code != exitInternal || !strings.Contains(out, "--config nosuch.yaml: ") {
		t.Errorf("exit %d, want %d naming --config nosuch.yaml:\n%s", code, exitInternal, out)
	}
	code, out = gracefulEnv(t, dir, []string{"GRACEFUL_CONFIG=/dev/zero"}, "run", "--", "/bin/true")
	if code != exitInternal || !strings.Contains(out, "GRACEFUL_CONFIG=/dev/zero: not a regular file") {
		t.Errorf("exit %d, want %d naming GRACEFUL_CONFIG=/dev/zero:\n%s", code, exitInternal, out)
	}
}

// Values from the environment and the settings file are parsed by the
// flag's own parser: a duration needs its unit, a number must be one. A
// bad value stops run and join (125) and names its source.
func TestSettingsAreParsedAsTheirFlags(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		file string
		args []string
		want string
	}{
		{"a timeout without a unit", []string{"GRACEFUL_TIMEOUT=600"}, "", nil,
			"GRACEFUL_TIMEOUT=600: a duration needs a unit, e.g. 600s"},
		{"a timeout that is no duration", []string{"GRACEFUL_TIMEOUT=abc"}, "", nil, "GRACEFUL_TIMEOUT=abc: "},
		{"a timeout missing its last unit", []string{"GRACEFUL_TIMEOUT=1h30"}, "", nil, "GRACEFUL_TIMEOUT=1h30: "},
		{"a fraction without a unit", []string{"GRACEFUL_TIMEOUT=0.5"}, "", nil,
			"GRACEFUL_TIMEOUT=0.5: a duration needs a unit, e.g. 0.5s"},
		{"a negative timeout", []string{"GRACEFUL_TIMEOUT=-5s"}, "", nil, "GRACEFUL_TIMEOUT=-5s: must not be negative"},
		{"a timeout without a unit in the file", nil, "timeout: 600\n", nil,
			"cfg.yaml:1: timeout: 600: a duration needs a unit, e.g. 600s"},
		{"join's start timeout without a unit", []string{"GRACEFUL_START_TIMEOUT=1"}, "", []string{"join", "--socket", "/nonexistent/sock"},
			"GRACEFUL_START_TIMEOUT=1: a duration needs a unit, e.g. 1s"},
		{"an oom_score_adj that is no number", []string{"GRACEFUL_OOM_SCORE_ADJ=abc"}, "", []string{"join", "--socket", "/nonexistent/sock"},
			"GRACEFUL_OOM_SCORE_ADJ=abc: "},
		{"a peer uid that is no number", []string{"GRACEFUL_PEER_UID=root"}, "", []string{"join", "--socket", "/nonexistent/sock"},
			"GRACEFUL_PEER_UID=root: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := tt.args
			if args == nil {
				args = []string{"run"}
			}
			if tt.file != "" {
				writeFile(t, dir, "cfg.yaml", tt.file)
				args = append(args, "--config", "cfg.yaml")
			}
			args = append(args, "--", "/bin/sh", "-c", "sleep 0.3")
			code, out := gracefulEnv(t, dir, tt.env, args...)
			if code != exitInternal || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, exitInternal, tt.want, out)
			}
		})
	}
}

// Good values from each source take effect, with flags > environment >
// file > defaults.
func TestSettingsPrecedence(t *testing.T) {
	job := []string{"--", "/bin/sh", "-c", "sleep 5"}
	tests := []struct {
		name string
		env  []string
		file string
		args []string
		want int
	}{
		{"the environment's timeout", []string{"GRACEFUL_TIMEOUT=100ms"}, "", nil, 124},
		{"the file's timeout", nil, "timeout: 100ms\n", nil, 124},
		{"the environment over the file", []string{"GRACEFUL_TIMEOUT=100ms"}, "timeout: 1h\n", nil, 124},
		{"a flag over the environment", []string{"GRACEFUL_TIMEOUT=1h"}, "", []string{"--timeout", "100ms"}, 124},
		{"the file named by GRACEFUL_CONFIG", []string{"GRACEFUL_CONFIG=cfg.yaml"}, "timeout: 100ms\n", nil, 124},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := append([]string{"run"}, tt.args...)
			if tt.file != "" {
				writeFile(t, dir, "cfg.yaml", tt.file)
				if !strings.HasPrefix(strings.Join(tt.env, " "), "GRACEFUL_CONFIG") {
					args = append(args, "--config", "cfg.yaml")
				}
			}
			code, out := gracefulEnv(t, dir, tt.env, append(args, job...)...)
			if code != tt.want {
				t.Errorf("exit %d, want %d:\n%s", code, tt.want, out)
			}
		})
	}
}

// The values a command gets from each source, read back from its flags.
func TestSettingsValues(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		file string
		want map[string]string // flag: its String()
	}{
		{"peer uids from the environment", []string{"join"}, map[string]string{"GRACEFUL_PEER_UID": "1000,1001"}, "",
			map[string]string{"peer-uid": "[1000,1001]"}},
		{"peer uids from the file, as a list", []string{"join"}, nil, "peer-uid: [1000, 1001]\n",
			map[string]string{"peer-uid": "[1000,1001]"}},
		{"oom_score_adj keeps its default", []string{"join"}, nil, "",
			map[string]string{"oom-score-adj": "1000"}},
		{"job names from the file", []string{"run"}, nil, "job: [build, test]\nparallel: true\n",
			map[string]string{"job": "[build,test]", "parallel": "true"}},
		{"a file of comments only", []string{"run"}, nil, "# nothing yet\n",
			map[string]string{"timeout": "0s", "verbose": "false"}},
		{"an alias", []string{"run"}, nil, "socket: &s /graceful/sock\ntoken-file: *s\n",
			map[string]string{"token-file": "/graceful/sock"}},
		{"the environment over the file", []string{"join"}, map[string]string{"GRACEFUL_START_TIMEOUT": "2s"}, "start-timeout: 5s\n",
			map[string]string{"start-timeout": "2s"}},
		{"a flag over the environment", []string{"join", "--start-timeout", "3s"}, map[string]string{"GRACEFUL_START_TIMEOUT": "2s"}, "",
			map[string]string{"start-timeout": "3s"}},
		{"an empty variable is no setting", []string{"run"}, map[string]string{"GRACEFUL_TIMEOUT": ""}, "timeout: 3s\n",
			map[string]string{"timeout": "3s"}},
		{"the profile's variable", []string{"run"}, map[string]string{"GRACEFUL_USE_PROFILE": "container"}, "",
			map[string]string{"profile": "container"}},
		{"GRACEFUL_PROFILE is no setting", []string{"run"}, map[string]string{"GRACEFUL_PROFILE": "outer"}, "",
			map[string]string{"profile": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRootCmd()
			cmd, rest, err := root.Find(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			args := rest
			if tt.file != "" {
				args = append(args, "--config", writeFile(t, t.TempDir(), "cfg.yaml", tt.file))
			}
			if err := cmd.ParseFlags(args); err != nil {
				t.Fatal(err)
			}
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			if err := applySettings(cmd, lookup); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for name := range tt.want {
				got[name] = cmd.Flags().Lookup(name).Value.String()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("flag values (-want +got):\n%s", diff)
			}
		})
	}
}

// The settings table covers every flag of run and join, and
// docs/configuration.md names every key and variable.
func TestSettingsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	root := newRootCmd()
	for _, name := range []string{"run", "join"} {
		cmd, _, _ := root.Find([]string{name})
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" || f.Name == "config" {
				return
			}
			s, ok := settingFor(f.Name)
			if !ok || !s.appliesTo(name) {
				t.Errorf("graceful %s --%s is not in the settings table", name, f.Name)
			}
		})
	}
	for _, s := range settings {
		if !bytes.Contains(doc, []byte("`"+s.key+"`")) {
			t.Errorf("docs/configuration.md does not name the key %q", s.key)
		}
		if s.env != "" && !bytes.Contains(doc, []byte("`"+s.env+"`")) {
			t.Errorf("docs/configuration.md does not name %s", s.env)
		}
	}
	if !bytes.Contains(doc, []byte("`"+configEnv+"`")) {
		t.Errorf("docs/configuration.md does not name %s", configEnv)
	}
}

// A finalisation can wrap its upload in graceful run: the outcome
// variables it gets (GRACEFUL_PROFILE=test, ...) are no settings of the
// nested run, which runs under its own default profile.
func TestNestedRunInFinalisation(t *testing.T) {
	t.Parallel()
	fin := fmt.Sprintf("%s run --timeout 30s -- /bin/sh -c 'echo nested ran'", os.Args[0])
	h := startRun(t, testPolicy("300ms", "5s", fin), "--", "/bin/true")
	if status, _ := h.wait(); status != 0 {
		t.Errorf("status %d, want 0; stderr:\n%s", status, h.stderr())
	}
	if !contains(h.stdout(), "nested ran") || strings.Contains(h.stderr(), "graceful: finalize") {
		t.Errorf("the nested run did not run; stdout %q, stderr:\n%s", h.stdout(), h.stderr())
	}
}

// graceful's settings do not reach the job: a graceful in the job neither
// inherits the outer run's settings nor truncates its --events file.
func TestSettingsNotPassedToTheJob(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	events := filepath.Join(dir, "events.jsonl")
	job := fmt.Sprintf("env | grep '^GRACEFUL_' | grep -v '^GRACEFUL_TEST'; %s run -- /bin/sh -c 'sleep 0.2'", os.Args[0])
	env := []string{"GRACEFUL_EVENTS=" + events, "GRACEFUL_TIMEOUT=1h", "GRACEFUL_USE_PROFILE=process", "GRACEFUL_OOM_SCORE_ADJ=5"}
	code, out := gracefulEnv(t, dir, env, "run", "--", "/bin/sh", "-c", job)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if strings.Contains(out, "GRACEFUL_") {
		t.Errorf("the job got graceful's settings:\n%s", out)
	}
	b, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	if starts, ends := strings.Count(string(b), `"cause":"start"`), strings.Count(string(b), `"to":"done"`); starts != 1 || ends != 1 {
		t.Errorf("the events file holds %d starts and %d ends, want one run's:\n%s", starts, ends, b)
	}
}

// Command steps and the finalisation get the outcome variables and no
// setting: no outcome variable has a setting's name.
func TestOutcomeVariablesAreNoSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	record := `["/bin/sh", "-c", "env | grep -o '^GRACEFUL_[A-Z_]*' | grep -v '^GRACEFUL_TEST' >> names"]`
	policy := writeFile(t, dir, "p.hcl", `profile "test" {
  runner = "process"
  cancel {
    step "hook" {
      at      = "0s"
      command = `+record+`
    }
    step "kill" {
      at     = "300ms"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "5s"
  }
  finalize {
    command = `+record+`
  }
}
`)
	writeFile(t, dir, "cfg.yaml", "verbose: true\n")
	env := []string{"GRACEFUL_TIMEOUT=100ms", "GRACEFUL_CONFIG=cfg.yaml", "GRACEFUL_USE_PROFILE=test", "GRACEFUL_POLICY=" + policy}
	if code, out := gracefulEnv(t, dir, env, "run", "--", "/bin/sh", "-c", "sleep 5"); code != 124 {
		t.Fatalf("exit %d, want 124 (--timeout):\n%s", code, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "names"))
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Fields(string(b))
	for _, want := range []string{"GRACEFUL_OUTCOME", "GRACEFUL_PROFILE", "GRACEFUL_STEP"} {
		if !slices.Contains(names, want) {
			t.Errorf("the commands did not get %s: %q", want, names)
		}
	}
	for _, n := range names {
		if n == configEnv {
			t.Errorf("the commands got %s", n)
		}
		for _, s := range settings {
			if s.env == n {
				t.Errorf("the commands got %s, the variable of the setting %q", n, s.key)
			}
		}
	}
}
