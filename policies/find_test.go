package policies

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graceful-sh/graceful/engine"
)

func TestFindBuiltinProcessIsTheDefault(t *testing.T) {
	p, err := Find("", "")
	if err != nil {
		t.Fatal(err)
	}
	want := &engine.Profile{
		Name:        "process",
		Description: p.Description,
		Runner:      engine.RunnerProcess,
		Triggers: map[string][]engine.Action{
			"SIGINT":  {engine.ActionDrain, engine.ActionCancel, engine.ActionExit},
			"SIGTERM": {engine.ActionDrain, engine.ActionCancel, engine.ActionExit},
			"SIGQUIT": {engine.ActionCancel},
			"SIGHUP":  {engine.ActionIgnore},
		},
		Steps: []engine.Step{
			{Name: "interrupt", At: 0, Kind: engine.StepSignal, Signal: "SIGTERM", Scope: engine.ScopeGroup},
			{Name: "kill", At: 9 * time.Second, Kind: engine.StepSignal, Signal: "SIGKILL", Scope: engine.ScopeTree},
		},
		Deadline:  10 * time.Second,
		ExitCodes: engine.DefaultExitCodes,
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("process profile (-want +got):\n%s", diff)
	}
}

func TestFindKubernetesBuiltin(t *testing.T) {
	p, err := Find("", "kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	// The deadline sits inside the budget, so the coordinator reports and
	// exits before the kubelet's SIGKILL.
	if p.Runner != engine.RunnerKubernetes || p.Budget != 60*time.Second || p.Deadline != 58*time.Second {
		t.Errorf("kubernetes: runner %q budget %s deadline %s", p.Runner, p.Budget, p.Deadline)
	}
	if got := p.Triggers["SIGTERM"]; len(got) == 0 || got[0] != engine.ActionCancel {
		t.Errorf("kubernetes: first SIGTERM is %v, want cancel", got)
	}
	want := []engine.Step{
		{Name: "interrupt", Kind: engine.StepNotify, Notify: "interrupt"},
		{Name: "abandon", At: 50 * time.Second, Kind: engine.StepAbandon},
	}
	if diff := cmp.Diff(want, p.Steps); diff != "" {
		t.Errorf("kubernetes steps (-want +got):\n%s", diff)
	}
}

func TestFindUnknownNameListsWhatExists(t *testing.T) {
	_, err := Find("", "nope")
	if err == nil || err.Error() != "no profile named nope (have: container, kubernetes, process)" {
		t.Errorf("err = %v", err)
	}
}

func TestFindFileExtendingBuiltin(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "p.hcl")
	src := `profile "quick" {
  extends = "process"
  cancel {
    step "kill" {
      at     = "2s"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "3s"
  }
}
`
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Find(f, "quick")
	if err != nil {
		t.Fatal(err)
	}
	if p.Deadline != 3*time.Second || len(p.Steps) != 2 || p.Steps[1].At != 2*time.Second {
		t.Errorf("quick: %+v", p)
	}
	// The directory form finds the same profile, and built-ins stay
	// reachable.
	if _, err := Find(dir, "kubernetes"); err != nil {
		t.Error(err)
	}
	// With no name, a file's only profile is the one meant.
	if p, err := Find(f, ""); err != nil || p.Name != "quick" {
		t.Errorf("Find(file, \"\") = %v, %v; want the file's only profile, quick", p, err)
	}
	// With several, the default stays the built-in process profile.
	other := "profile \"slow\" {\n  extends = \"process\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "q.hcl"), []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := Find(dir, ""); err != nil || p.Name != "process" {
		t.Errorf("Find(dir with two profiles, \"\") = %v, %v; want process", p, err)
	}
}

func TestFindRendersDiagnostics(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "bad.hcl")
	if err := os.WriteFile(f, []byte("profile \"x\" {\n  on \"SIGTREM\" { actions = [\"cancel\"] }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Find(f, "x")
	if err == nil {
		t.Fatal("no error for an unknown signal")
	}
	for _, want := range []string{"Unknown signal", "bad.hcl:2:6", `Did you mean "SIGTERM"?`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
}

func TestBuiltins(t *testing.T) {
	var names []string
	for _, p := range Builtin() {
		names = append(names, p.Name)
		if _, ok := BuiltinSource(p.Name); !ok {
			t.Errorf("%s: no source", p.Name)
		}
	}
	if diff := cmp.Diff([]string{"container", "kubernetes", "process"}, names); diff != "" {
		t.Errorf("built-ins (-want +got):\n%s", diff)
	}
	c, err := Find("", "container")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"SIGTERM", "SIGINT"} {
		if got := c.Triggers[s]; len(got) == 0 || got[0] != engine.ActionCancel {
			t.Errorf("container: first %s is %v, want cancel (docker stop sends one)", s, got)
		}
	}
	if c.Runner != engine.RunnerContainer {
		t.Errorf("container runner %q", c.Runner)
	}
	// With no files, Load checks the built-ins themselves.
	pol, diags := Load(nil, Options{})
	if len(diags) != 0 || len(pol.Profiles()) != 3 {
		t.Errorf("built-ins: %d profiles, diagnostics:%s", len(pol.Profiles()), describe(diags))
	}
}

// Find is called by library users for many jobs at once: it must be safe
// for concurrent use (run with -race).
func TestFindConcurrently(t *testing.T) {
	done := make(chan error)
	for i := range 8 {
		go func() {
			path := "../examples/policies/finalize.hcl"
			name := "ci-with-upload"
			if i%2 == 0 {
				path, name = "", "kubernetes"
			}
			_, err := Find(path, name)
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestPolicySource(t *testing.T) {
	pol, diags := Load([]string{"../examples/policies"}, Options{LookupEnv: noEnv})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for name, want := range map[string]string{
		"github-actions": "../examples/policies/github-actions.hcl",
		"docker":         "../examples/policies/container.hcl.json",
		"process":        "<builtin>/process.hcl",
		"nope":           "",
	} {
		if got := pol.Source(name); got != want {
			t.Errorf("Source(%q) = %q, want %q", name, got, want)
		}
	}
}
