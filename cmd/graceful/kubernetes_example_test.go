//go:build linux

package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/graceful-sh/graceful/policies"
)

const examplePod = "../../examples/kubernetes/pod.yaml"

// The example pod must pass `graceful validate --pod` and give the kubelet
// exactly the kubernetes profile's budget.
func TestExamplePodValidates(t *testing.T) {
	abs, err := filepath.Abs(examplePod)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // no graceful.yaml around
	if got := run(context.Background(), []string{"validate", "--pod", abs}); got != 0 {
		t.Errorf("graceful validate --pod %s = %d, want 0", examplePod, got)
	}
	grace, err := policies.PodBudget(abs)
	if err != nil {
		t.Fatal(err)
	}
	prof, err := policies.Find("", "kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	if grace != prof.Budget {
		t.Errorf("terminationGracePeriodSeconds %v, want the kubernetes profile's budget %v", grace, prof.Budget)
	}
}

// The long grace period example must fit its 300s budget.
func TestExampleLongGraceValidates(t *testing.T) {
	abs, err := filepath.Abs("../../examples/kubernetes/long-grace.hcl")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if got := run(context.Background(), []string{"validate", "--budget", "300s", abs}); got != 0 {
		t.Errorf("graceful validate --budget 300s %s = %d, want 0", abs, got)
	}
}
