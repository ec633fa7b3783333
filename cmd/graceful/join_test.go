package main

import (
	"context"
	"testing"
)

// Usage errors of join (125, like run) and of the kubernetes coordinator are decided before
// anything connects or starts, so they run in-process.
func TestKubernetesUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"join without socket", []string{"join", "--", "true"}, exitInternal},
		{"join without command", []string{"join", "--socket", "/tmp/x"}, exitInternal},
		{"join under the coordinator's profile", []string{"join", "--socket", "/tmp/x", "--profile", "kubernetes", "--", "true"}, exitInternal},
		{"join with an unknown flag", []string{"join", "--bogus", "--", "true"}, exitInternal},
		{"join with a bad cgroup mode", []string{"join", "--socket", "/tmp/x", "--cgroup", "maybe", "--", "true"}, exitInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir()) // no graceful.yaml around
			if got := run(context.Background(), tt.args); got != tt.want {
				t.Errorf("graceful %v = %d, want %d", tt.args, got, tt.want)
			}
		})
	}
}
