package policies

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graceful-sh/graceful/engine"
)

func loadOne(t *testing.T, path, name string, env map[string]string) *engine.Profile {
	t.Helper()
	pol, diags := Load([]string{path}, Options{LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	if diags.HasErrors() {
		t.Fatalf("%s:\n%s", path, pol.RenderDiagnostics(diags, 0, false))
	}
	p, err := pol.Profile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sig(name string, at time.Duration, s string, scope engine.Scope) engine.Step {
	return engine.Step{Name: name, At: at, Kind: engine.StepSignal, Signal: s, Scope: scope}
}

func TestDecodeProfiles(t *testing.T) {
	sec := time.Second
	buildkite := func(kill, deadline time.Duration) *engine.Profile {
		return &engine.Profile{
			Name:        "buildkite",
			Description: "Buildkite agent job: SIGTERM, SIGKILL at the signal grace, deadline at the cancel grace",
			Runner:      engine.RunnerProcess,
			Triggers: map[string][]engine.Action{
				"SIGINT":  {"drain", "cancel", "exit"},
				"SIGTERM": {"drain", "cancel", "exit"},
				"SIGQUIT": {"cancel"},
				"SIGHUP":  {"ignore"},
			},
			Steps:     []engine.Step{sig("interrupt", 0, "SIGTERM", "group"), sig("kill", kill, "SIGKILL", "tree")},
			Deadline:  deadline,
			ExitCodes: engine.DefaultExitCodes,
		}
	}
	tests := []struct {
		name    string
		path    string
		profile string
		env     map[string]string
		want    *engine.Profile
	}{
		{
			name: "buildkite defaults: signal grace is cancel grace minus 1s",
			path: "../examples/policies/buildkite.hcl", profile: "buildkite",
			want: buildkite(9*sec, 10*sec),
		},
		{
			name: "buildkite negative signal grace is relative to the cancel grace",
			path: "../examples/policies/buildkite.hcl", profile: "buildkite",
			env:  map[string]string{"BUILDKITE_CANCEL_GRACE_PERIOD": "60", "BUILDKITE_SIGNAL_GRACE_PERIOD_SECONDS": "-15"},
			want: buildkite(45*sec, 60*sec),
		},
		{
			name: "buildkite positive signal grace is absolute",
			path: "../examples/policies/buildkite.hcl", profile: "buildkite",
			env:  map[string]string{"BUILDKITE_SIGNAL_GRACE_PERIOD_SECONDS": "3"},
			want: buildkite(3*sec, 10*sec),
		},
		{
			name: "github actions: SIGINT, 7.5s, SIGTERM, 2.5s, SIGKILL",
			path: "../examples/policies/github-actions.hcl", profile: "github-actions",
			want: &engine.Profile{
				Name:        "github-actions",
				Description: "SIGINT, 7.5s, SIGTERM, 2.5s, SIGKILL (GitHub Actions runner)",
				Runner:      engine.RunnerProcess,
				Triggers: map[string][]engine.Action{
					"SIGINT": {"cancel", "exit"}, "SIGTERM": {"cancel", "exit"}, "SIGQUIT": {"cancel"},
				},
				Steps: []engine.Step{
					sig("interrupt", 0, "SIGINT", "group"),
					sig("terminate", 7500*time.Millisecond, "SIGTERM", "group"),
					sig("kill", 10*sec, "SIGKILL", "tree"),
				},
				Deadline:  11 * sec,
				ExitCodes: engine.DefaultExitCodes,
			},
		},
		{
			name: "three-level extends: replaced, removed and added steps, inherited finalize",
			path: "testdata/valid-files/extends-chain.hcl", profile: "leaf",
			want: &engine.Profile{
				Name:        "leaf",
				Description: "base",
				Runner:      engine.RunnerProcess,
				Triggers: map[string][]engine.Action{
					"SIGINT": {"drain", "cancel", "exit"}, "SIGTERM": {"cancel", "exit"},
				},
				Steps: []engine.Step{
					sig("interrupt", 0, "SIGTERM", "group"),
					{Name: "stop", At: sec, Kind: engine.StepCommand, Command: []string{"./stop.sh", "--now"}, Timeout: 3 * sec},
					sig("kill", 15*sec, "SIGKILL", "tree"),
				},
				Deadline:  20 * sec,
				Finalize:  &engine.Finalize{Command: []string{"./report.sh"}, Timeout: time.Minute},
				ExitCodes: engine.ExitCodes{Abandoned: 99, Timeout: 124},
			},
		},
		{
			name: "locals in any order with duration functions",
			path: "testdata/valid-files/locals-any-order.hcl", profile: "computed",
			want: &engine.Profile{
				Name:      "computed",
				Runner:    engine.RunnerProcess,
				Triggers:  map[string][]engine.Action{"SIGTERM": {"cancel"}},
				Steps:     []engine.Step{sig("interrupt", 0, "SIGTERM", "group"), sig("kill", 7500*time.Millisecond, "SIGKILL", "group")},
				Deadline:  8500 * time.Millisecond,
				ExitCodes: engine.DefaultExitCodes,
			},
		},
		{
			name: "a shadowing profile extends the built-in of its name",
			path: "testdata/valid-files/shadow-builtin.hcl", profile: "process",
			want: func() *engine.Profile {
				p, _ := Find("", "process")
				p.Steps[1].At = 4 * sec
				p.Deadline = 5 * sec
				return p
			}(),
		},
		{
			name: "JSON syntax extending a built-in",
			path: "testdata/valid-files/kubernetes-extends.hcl.json", profile: "k8s-upload",
			want: func() *engine.Profile {
				p, _ := Find("", "kubernetes")
				p.Name = "k8s-upload"
				p.Budget = 90 * sec
				p.Deadline = 80 * sec
				p.Steps = []engine.Step{
					p.Steps[0],
					{Name: "pre-stop", Kind: engine.StepCommand, Command: []string{"/bin/pre-stop", "--graceful"}, Timeout: 10 * sec},
					p.Steps[1],
				}
				p.Finalize = &engine.Finalize{Command: []string{"/bin/upload"}}
				return p
			}(),
		},
		{
			name: "timeout example reads KILL_AFTER",
			path: "../examples/policies/timeout.hcl.json", profile: "timeout",
			env: map[string]string{"KILL_AFTER": "1m"},
			want: func() *engine.Profile {
				p, _ := Find("", "process")
				p.Name = "timeout"
				p.Description = "timeout(1): SIGTERM, SIGKILL after KILL_AFTER, exit 124"
				p.Triggers["SIGINT"] = []engine.Action{"cancel", "exit"}
				p.Triggers["SIGTERM"] = []engine.Action{"cancel", "exit"}
				p.Steps[1].At = time.Minute
				p.Deadline = time.Minute + sec
				return p
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := loadOne(t, tt.path, tt.profile, tt.env)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("profile (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildkiteSignalGraceMustBeBelowCancelGrace(t *testing.T) {
	for _, env := range []map[string]string{
		{"BUILDKITE_SIGNAL_GRACE_PERIOD_SECONDS": "10"},
		{"BUILDKITE_CANCEL_GRACE_PERIOD": "5", "BUILDKITE_SIGNAL_GRACE_PERIOD_SECONDS": "7"},
	} {
		_, diags := Load([]string{"../examples/policies/buildkite.hcl"}, Options{LookupEnv: func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		}})
		if len(diags) != 1 || diags[0].Summary != "Check failed" {
			t.Errorf("env %v: want one Check failed, got:%s", env, describe(diags))
		}
	}
}

func TestProfileResultIsTheCallersToModify(t *testing.T) {
	a, _ := Find("", "process")
	a.Steps[0].Signal = "SIGUSR1"
	a.Triggers["SIGINT"][0] = "exit"
	b, _ := Find("", "process")
	if b.Steps[0].Signal != "SIGTERM" || b.Triggers["SIGINT"][0] != "drain" {
		t.Error("modifying one Find result changed the next")
	}
}

func TestBudgetOption(t *testing.T) {
	_, diags := Load([]string{"../examples/policies/github-actions.hcl"}, Options{LookupEnv: noEnv, CheckBudget: true, Budget: 10 * time.Second, BudgetSource: "--budget 10s"})
	if len(diags) != 1 || diags[0].Summary != "Deadline over budget" || diags[0].Subject.Start.Line != 30 {
		t.Errorf("want Deadline over budget at line 30, got:%s", describe(diags))
	}
	_, diags = Load([]string{"../examples/policies/github-actions.hcl"}, Options{LookupEnv: noEnv, CheckBudget: true, Budget: 11 * time.Second})
	if len(diags) != 0 {
		t.Errorf("a deadline equal to the budget fits:%s", describe(diags))
	}
}
