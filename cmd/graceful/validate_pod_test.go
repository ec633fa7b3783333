//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graceful-sh/graceful/engine/kubernetes"
	"github.com/graceful-sh/graceful/policies"
)

func TestPodStartTimeoutDefault(t *testing.T) {
	if policies.DefaultStartTimeout != kubernetes.DefaultStartTimeout {
		t.Errorf("policies.DefaultStartTimeout %v, kubernetes.DefaultStartTimeout %v", policies.DefaultStartTimeout, kubernetes.DefaultStartTimeout)
	}
}

const podTemplate = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  GRACE
  initContainers:
    - name: coordinator
      restartPolicy: Always
      image: graceful
      args: ["run", "--profile=kubernetes", "--socket=/g/sock", "--job=build"]
  containers:
    - name: build
      image: b
      command: ["/g/graceful", "join", "--socket", "SOCKET", "--name=build", "--", "make"]
      LIFECYCLE
`

// validate --pod reads which containers run graceful and checks what they
// run against the pod: the grace period (and its 30s default when unset),
// preStop hooks, stop signals, the coordinator and the joins' socket.
func TestValidatePodKnowsThePod(t *testing.T) {
	for _, tc := range []struct {
		name, grace, socket, lifecycle string
		status                         int
		want                           []string
	}{
		{"fits", "terminationGracePeriodSeconds: 60", "/g/sock", "", 0, nil},
		{"grace unset", "", "/g/sock", "", 1, []string{"Kubernetes gives 30s", "Grace period left unset"}},
		{"join on another socket", "terminationGracePeriodSeconds: 60", "/other/sock", "", 1, []string{"Join on another socket"}},
		{"preStop and stopSignal", "terminationGracePeriodSeconds: 60", "/g/sock",
			"lifecycle: {preStop: {exec: {command: [sleep, '5']}}, stopSignal: SIGINT}", 0,
			[]string{"preStop hook in the grace period", "Stop signal other than SIGTERM"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := strings.NewReplacer("GRACE", tc.grace, "SOCKET", tc.socket, "LIFECYCLE", tc.lifecycle).Replace(podTemplate)
			file := filepath.Join(t.TempDir(), "pod.yaml")
			if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := gracefulCmd("validate", "--pod", file)
			out, _ := cmd.CombinedOutput()
			if got := cmd.ProcessState.ExitCode(); got != tc.status {
				t.Errorf("exit %d, want %d:\n%s", got, tc.status, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	// A List is refused, not silently skipped.
	file := filepath.Join(t.TempDir(), "list.yaml")
	_ = os.WriteFile(file, []byte("apiVersion: v1\nkind: List\nitems: []\n"), 0o644)
	cmd := gracefulCmd("validate", "--pod", file)
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), "List is not read") {
		t.Errorf("kind: List: exit %d:\n%s", cmd.ProcessState.ExitCode(), out)
	}
}
