package policies

import (
	"testing"
)

// TestRuntimeReservedSignals: a trigger on a signal the Go runtime keeps
// for itself is refused, while a step may still send it to the job.
func TestRuntimeReservedSignals(t *testing.T) {
	for _, sig := range []string{"SIGURG", "SIGPROF"} {
		if !RuntimeReserved(sig) {
			t.Errorf("RuntimeReserved(%s) = false", sig)
		}
		if !signalSet[sig] {
			t.Errorf("%s is reserved but not a signal name", sig)
		}
		trigger := `profile "p" {
  on "` + sig + `" { actions = ["cancel"] }
  cancel {
    step "kill" {
      at     = "1s"
      signal = "SIGKILL"
    }
    deadline = "2s"
  }
}
`
		_, diags := LoadSources([]Source{{Name: "t.hcl", Src: []byte(trigger)}}, Options{LookupEnv: noEnv})
		if len(diags) != 1 || diags[0].Summary != "Signal reserved by the Go runtime" || diags[0].Subject == nil || diags[0].Subject.Start.Line != 2 {
			t.Errorf("on %q: want one reserved-signal error on line 2, got:%s", sig, describe(diags))
		}
		step := `profile "p" {
  cancel {
    step "poke" {
      at     = "0s"
      signal = "` + sig + `"
    }
    step "kill" {
      at     = "1s"
      signal = "SIGKILL"
    }
    deadline = "2s"
  }
}
`
		if _, diags := LoadSources([]Source{{Name: "s.hcl", Src: []byte(step)}}, Options{LookupEnv: noEnv}); diags.HasErrors() {
			t.Errorf("a step sending %s must stay allowed:%s", sig, describe(diags))
		}
	}
	for _, sig := range []string{"SIGTERM", "SIGUSR1", "SIGKILL", "SIGWINCH"} {
		if RuntimeReserved(sig) {
			t.Errorf("RuntimeReserved(%s) = true", sig)
		}
	}
}
