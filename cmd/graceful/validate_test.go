package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// polRun runs the graceful command tree in-process and returns its output
// and the exit status main would use.
func polRun(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(stdin))
	err := root.Execute()
	code = 0
	if err != nil {
		var ec *exitError
		if errors.As(err, &ec) {
			code = ec.code
			if ec.err != nil && !ec.quiet {
				errb.WriteString("graceful: " + ec.err.Error() + "\n")
			}
		} else {
			code = exitUsage
			errb.WriteString("graceful: " + err.Error() + "\n")
		}
	}
	return out.String(), errb.String(), code
}

// polWrite writes files into a fresh directory and returns it.
func polWrite(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const polBadSignal = `profile "x" {
  on "SIGTERM" { actions = ["cancel"] }
  on "SIGTREM" { actions = ["cancel"] }
  cancel {
    step "kill" {
      signal = "SIGKILL"
      at     = "5s"
    }
    deadline = "10s"
  }
}
`

const polK8s = `profile "pod" {
  runner = "kubernetes"
  on "SIGTERM" { actions = ["cancel"] }
  cancel {
    step "interrupt" { notify = "interrupt" }
    step "abandon" {
      at      = "20s"
      abandon = true
    }
    deadline = "25s"
  }
}
`

func TestValidateCommand(t *testing.T) {
	bad := polWrite(t, map[string]string{"bad.hcl": polBadSignal})
	k8s := polWrite(t, map[string]string{
		"pod.hcl": polK8s,
		"pod20.yaml": `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  terminationGracePeriodSeconds: 20
  containers: [{name: c, image: busybox}]
`,
		"deploy.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      containers: [{name: c, image: busybox}]
`,
		"svc.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n",
	})
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{"the examples are clean", []string{"validate", "../../examples/policies"}, 0, []string{"ok: "}, nil},
		{"a file named twice is loaded once", []string{"validate", "../../examples/policies", "../../examples/policies/buildkite.hcl", "../../examples/policies/"}, 0, []string{"ok: 8 valid profiles in 7 files"}, nil},
		{"a warning is printed but does not fail", []string{"validate", "../../policies/testdata/invalid-files/no-signal-stops.hcl"}, 0,
			[]string{"Warning: No signal stops graceful", "0 errors, 1 warning; 1 valid profile in 1 file"}, nil},
		{"no arguments checks the built-ins", []string{"validate"}, 0, []string{"ok: 3 valid built-in profiles"}, nil},
		{"a misspelt signal is a finding with position and suggestion", []string{"validate", filepath.Join(bad, "bad.hcl")}, 1,
			[]string{"Error: Unknown signal", "bad.hcl:3:6", `Did you mean "SIGTERM"?`, "1 error, 0 warnings"}, nil},
		{"a directory is read whole", []string{"validate", bad}, 1, []string{"Unknown signal"}, nil},
		{"a missing file is a usage error", []string{"validate", "no-such-file.hcl"}, 2, nil, []string{"no-such-file.hcl"}},
		{"an unknown flag is a usage error", []string{"validate", "--nope"}, 2, nil, []string{"unknown flag"}},
		{"a misspelt Go-style flag is named whole, with a suggestion", []string{"validate", "-jsno"}, 2, nil, []string{"unknown flag: --jsno; did you mean --json?"}},
		{"a deadline over --budget is a finding", []string{"validate", "--budget", "5s"}, 1, []string{"Deadline over budget", "--budget 5s"}, nil},
		{"a bad --budget is a usage error", []string{"validate", "--budget", "soon"}, 2, nil, []string{"--budget"}},
		{"--budget and --pod together are a usage error", []string{"validate", "--budget", "5s", "--pod", "x.yaml"}, 2, nil, []string{"not both"}},
		{"a pod's grace period is the budget", []string{"validate", "--pod", filepath.Join(k8s, "pod20.yaml"), filepath.Join(k8s, "pod.hcl")}, 1,
			[]string{"Deadline over budget", "terminationGracePeriodSeconds 20s"}, nil},
		{"a pod template without a grace period gets 30s", []string{"validate", "--pod", filepath.Join(k8s, "deploy.yaml"), filepath.Join(k8s, "pod.hcl")}, 0, []string{"ok: 1 valid profile in 1 file"}, nil},
		{"a manifest without a pod spec is a usage error", []string{"validate", "--pod", filepath.Join(k8s, "svc.yaml")}, 2, nil, []string{"no pod spec"}},
		{"go-style -budget works", []string{"validate", "-budget=5s"}, 1, []string{"Deadline over budget"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := polRun(t, "", tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestValidateJSON(t *testing.T) {
	bad := filepath.Join(polWrite(t, map[string]string{"bad.hcl": polBadSignal}), "bad.hcl")
	for _, flag := range []string{"-json", "--json"} {
		t.Run(flag, func(t *testing.T) {
			out, _, code := polRun(t, "", "validate", flag, bad)
			if code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			var rep jsonReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			if len(rep.Diagnostics) != 1 {
				t.Fatalf("diagnostics: %+v", rep.Diagnostics)
			}
			got := rep.Diagnostics[0]
			got.Detail = ""
			want := jsonDiagnostic{
				Severity: "error",
				Summary:  "Unknown signal",
				Range: &jsonRange{
					Filename: bad,
					Start:    jsonPos{Line: 3, Column: 6, Byte: 59},
					End:      jsonPos{Line: 3, Column: 15, Byte: 68},
				},
				Snippet: `  on "SIGTREM" { actions = ["cancel"] }`,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("diagnostic (-want +got):\n%s", diff)
			}
			if rep.Valid || rep.ErrorCount != 1 {
				t.Errorf("valid %v, errors %d", rep.Valid, rep.ErrorCount)
			}
		})
	}
}

// TestValidateJSONIsReadable: -json does not escape <, > and & (the
// built-ins' file names, "->" in an extends cycle) as \u003c..., so the
// report reads as it prints.
func TestValidateJSONIsReadable(t *testing.T) {
	out, _, code := polRun(t, "", "validate", "-json", "--budget", "30s")
	if code != 1 {
		t.Fatalf("exit status %d, want 1:\n%s", code, out)
	}
	if !strings.Contains(out, `"filename": "<builtin>/kubernetes.hcl"`) || strings.Contains(out, `\u003c`) {
		t.Errorf("escaped output:\n%s", out)
	}
}
