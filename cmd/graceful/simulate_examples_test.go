package main

import "testing"

// TestSimulateV4AndDrain: the Buildkite v4 and the Kubernetes drain
// examples behave as docs/policy.md says.
func TestSimulateV4AndDrain(t *testing.T) {
	planEnv(t)
	v4 := []string{"--policy", examples + "buildkite-v4.hcl", "--profile", "buildkite-v4"}
	drain := []string{"--policy", examples + "kubernetes-drain.hcl", "--profile", "kubernetes-drain"}
	with := func(base []string, more ...string) []string { return append(append([]string(nil), base...), more...) }
	tests := []struct {
		name   string
		golden string
		env    map[string]string
		args   []string
	}{
		{"buildkite-v4: job ignores SIGTERM, killed at the signal timeout, upload within the cleanup timeout", "buildkite-v4-ignores-term.txt", nil, with(v4, "--job", "ignores-term,exec-takes=3s")},
		{"buildkite-v4: upload overruns the cleanup timeout, cut at the sum", "buildkite-v4-slow-upload.txt", nil, with(v4, "--job", "ignores-term,exec-takes=10s")},
		{"buildkite-v4: the agent's settings from the environment", "buildkite-v4-env.txt", map[string]string{
			"BUILDKITE_CANCEL_SIGNAL_TIMEOUT": "30s", "BUILDKITE_CANCEL_CLEANUP_TIMEOUT": "1m", "BUILDKITE_CANCEL_SIGNAL": "SIGINT",
		}, with(v4, "--job", "exits-after=12s,exec-takes=45s", "--signal", "0s:SIGQUIT")},
		{"kubernetes-drain: job finishes within the drain", "kubernetes-drain-finishes.txt", nil, with(drain, "--job", "exits-at=5m,code=0", "--signal", "1m:SIGTERM")},
		{"kubernetes-drain: job still running after the drain stops on interrupt", "kubernetes-drain-interrupt.txt", nil, with(drain, "--job", "exits-after=20s", "--signal", "0s:SIGTERM")},
		{"kubernetes-drain: job ignores the interrupt, abandoned", "kubernetes-drain-never.txt", nil, with(drain, "--job", "never", "--signal", "0s:SIGTERM")},
		{"kubernetes-drain: a second SIGTERM exits at once", "kubernetes-drain-second-term.txt", nil, with(drain, "--job", "never", "--signal", "0s:SIGTERM", "--signal", "2m:SIGTERM")},
		{"kubernetes-drain: a shorter drain from the environment", "kubernetes-drain-env.txt", map[string]string{"DRAIN_TIMEOUT": "90s"}, with(drain, "--job", "exits-after=5s", "--signal", "0s:SIGTERM")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			out, err := runCmd(t, append([]string{"simulate"}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "simulate/"+tc.golden, out)
		})
	}
}

// TestExplainV4AndDrain: the two examples explain as docs/policy.md
// describes them.
func TestExplainV4AndDrain(t *testing.T) {
	planEnv(t)
	for _, name := range []string{"buildkite-v4", "kubernetes-drain"} {
		t.Run(name, func(t *testing.T) {
			out, err := runCmd(t, "explain", "--policy", examples+name+".hcl", "--profile", name)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "explain/"+name+".txt", out)
		})
	}
}
