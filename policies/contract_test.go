package policies

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/graceful-sh/graceful/engine"
)

// nopTarget is the least Target engine.New accepts.
type nopTarget struct{ done chan engine.Exit }

func (nopTarget) Signal(string, engine.Scope) error              { return nil }
func (nopTarget) Notify(string) error                            { return nil }
func (nopTarget) Abandon() error                                 { return nil }
func (nopTarget) Exec(context.Context, []string, []string) error { return nil }
func (t nopTarget) Done() <-chan engine.Exit                     { return t.done }

// TestEngineAcceptsEveryProfile checks the contract with package engine:
// whatever validates here, the engine can build a machine from.
func TestEngineAcceptsEveryProfile(t *testing.T) {
	var paths []string
	for _, pat := range []string{"../examples/policies/*", "testdata/valid-files/*"} {
		m, _ := filepath.Glob(pat)
		paths = append(paths, m...)
	}
	pol, diags := Load(paths, Options{LookupEnv: noEnv})
	if diags.HasErrors() {
		t.Fatal(pol.RenderDiagnostics(diags, 0, false))
	}
	profiles := append(pol.Profiles(), Builtin()...)
	for _, p := range profiles {
		if _, err := engine.New(engine.Config{Profile: p, Target: nopTarget{make(chan engine.Exit)}}); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
	if len(profiles) < 15 {
		t.Errorf("only %d profiles checked", len(profiles))
	}
}
