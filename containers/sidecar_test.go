//go:build linux

package containers

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The native-sidecar pod shape (docs/kubernetes.md): the coordinator is an
// init container with restartPolicy: Always (KEP-753). A kubelet starts it,
// lets it run beside the main containers (the joins), and when the pod is
// deleted sends SIGTERM to the main containers first and to the sidecar
// only after every main container has exited.
//
// podman kube play has no native sidecars (seen with podman 4.3.1; asked
// for upstream in podman issues 20372 and 25157): it ignores restartPolicy
// on an init container and runs it to completion before it starts the main
// containers, and podman pod stop signals every container at once. A
// coordinator there holds its job containers back until its --start-timeout
// (exit 125, never-connected). So the sidecar cases first ask podman, with
// a small probe pod, whether it runs such an init container beside the main
// containers, and skip with one line when it does not, whatever
// CONTAINER_SUITE says: the suite can run, this podman cannot play the
// shape. TestPodStopInSidecarOrder plays what can be played here: the
// KEP-753 stop order, by hand, on the regular shape.

var (
	sidecarOnce   sync.Once
	sidecarProbed bool   // the probe came to a verdict
	sidecarWhy    string // why podman cannot play the shape; "" if it can
)

// needSidecars skips the test unless podman runs an init container with
// restartPolicy: Always beside the pod's main containers.
func needSidecars(t *testing.T, s *suite) {
	t.Helper()
	sidecarOnce.Do(func() {
		sidecarWhy = probeSidecars(t, s)
		sidecarProbed = true
	})
	switch {
	case !sidecarProbed:
		t.Fatal("the native-sidecar probe failed (see the test that ran it)")
	case sidecarWhy != "":
		t.Skip(sidecarWhy)
	}
}

// sidecarWait is how long the probe's sidecar waits for the main container
// to start beside it: far longer than a container start takes, even on a
// busy machine.
const sidecarWait = 10 * time.Second

// probeSidecars plays a pod with an init container with restartPolicy:
// Always ("sidecar") and a main container ("main") on a shared volume. The
// sidecar waits up to sidecarWait for main to start, and stays if it does,
// as a sidecar; if it does not, it leaves a mark and exits. main says
// whether the sidecar was still running when it started. It returns "" if
// it was, else why not, naming podman's version.
func probeSidecars(t *testing.T, s *suite) string {
	t.Helper()
	version := strings.TrimSpace(s.must(t, "version", "--format", "{{.Client.Version}}").stdout)
	var p corev1.Pod
	p.APIVersion, p.Kind = "v1", "Pod"
	p.Name = "graceful-test-" + s.id + "-pod-sidecar-probe"
	volume := p.Name + "-probe"
	always := corev1.ContainerRestartPolicyAlways
	mounts := []corev1.VolumeMount{{Name: volume, MountPath: "/probe"}}
	p.Spec = corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		Volumes:       []corev1.Volume{{Name: volume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		InitContainers: []corev1.Container{{
			Name: "sidecar", Image: s.jobs, RestartPolicy: &always, VolumeMounts: mounts,
			Command: []string{"sh", "-c", fmt.Sprintf(`i=0
while [ ! -e /probe/main-started ] && [ $i -lt %d ]; do sleep 0.1; i=$((i+1)); done
[ -e /probe/main-started ] && exec sleep 3600
echo > /probe/sidecar-exited`, sidecarWait/(100*time.Millisecond))},
		}},
		Containers: []corev1.Container{{
			Name: "main", Image: s.jobs, VolumeMounts: mounts,
			Command: []string{"sh", "-c", `echo > /probe/main-started
if [ -e /probe/sidecar-exited ]; then echo "sidecar: exited before main started"; else echo "sidecar: running beside main"; fi`},
		}},
	}
	out, err := yaml.Marshal(&p)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "probe.yaml")
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := s.run(t, time.Minute, "pod", "rm", "--force", "--time", "0", p.Name); r.code != 0 && !strings.Contains(r.stderr, "no pod with name") {
			t.Errorf("cleanup: podman pod rm %s: %s", p.Name, r)
		}
		if r := s.run(t, time.Minute, "volume", "rm", "--force", volume); r.code != 0 && !strings.Contains(r.stderr, "no such volume") {
			t.Errorf("cleanup: podman volume rm %s: %s", volume, r)
		}
	}()

	if r := s.run(t, 2*time.Minute, "kube", "play", file); r.code != 0 {
		return fmt.Sprintf("native sidecars: podman %s cannot play a pod with an init container with restartPolicy: Always: %s", version, lastLine([]byte(r.stderr)))
	}
	main := p.Name + "-main"
	if code := exitCode(t, s, main); code != 0 {
		t.Fatalf("native-sidecar probe: container main exited %d\n%s", code, s.logs(t, main))
	}
	switch logs := s.logs(t, main); {
	case strings.Contains(logs, "sidecar: running beside main"):
		t.Logf("podman %s runs an init container with restartPolicy: Always beside the main containers", version)
		return ""
	case strings.Contains(logs, "sidecar: exited before main started"):
		return fmt.Sprintf("native sidecars: podman %s runs an init container with restartPolicy: Always to completion before it starts the main containers (no KEP-753 sidecars in kube play): a coordinator there would hold its job containers back until its --start-timeout", version)
	default:
		t.Fatalf("native-sidecar probe: container main said neither:\n%s", logs)
	}
	return ""
}

// TestSidecarPod runs the example pod's cases (kube_test.go) with the
// coordinator as a native sidecar, with the same checks. A runtime that
// stops the pod in KEP-753 order signals the coordinator only after the
// joins have exited, so there a join's report is what cancels; one that
// signals every container at once races the two. The checks hold either
// way. One test with subtests, so that the probe holds one of go test's
// parallel slots, not three.
func TestSidecarPod(t *testing.T) {
	s := need(t)
	t.Parallel()
	needSidecars(t, s)
	for name, body := range map[string]func(*testing.T, *suite, shape){
		"RunsJobsInOrder":     podRunsJobsInOrder,
		"Stop":                podStop,
		"StopJobIgnoringTERM": podStopJobIgnoringTERM,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body(t, s, sidecar)
		})
	}
}

// TestSidecarShape checks, without podman, the pod the sidecar cases play:
// the example pod with its coordinator container moved, unchanged, to the
// end of the init containers with restartPolicy: Always, as
// docs/kubernetes.md shows the shape, and nothing else moved.
func TestSidecarShape(t *testing.T) {
	jobs := map[string][]string{"build": {"true"}, "test": {"true"}}
	reg, _ := exampleFor(t, "pod", "graceful", "jobs", regular, jobs)
	side, _ := exampleFor(t, "pod", "graceful", "jobs", sidecar, jobs)
	names := func(cs []corev1.Container) []string {
		var n []string
		for _, c := range cs {
			n = append(n, c.Name)
		}
		return n
	}
	for _, c := range []struct {
		what      string
		got, want []string
	}{
		{"regular: init containers", names(reg.Spec.InitContainers), []string{"install-graceful"}},
		{"regular: containers", names(reg.Spec.Containers), []string{"coordinator", "build", "test"}},
		{"sidecar: init containers", names(side.Spec.InitContainers), []string{"install-graceful", "coordinator"}},
		{"sidecar: containers", names(side.Spec.Containers), []string{"build", "test"}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Fatalf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	if side.Spec.InitContainers[0].RestartPolicy != nil {
		t.Errorf("install-graceful has a restartPolicy: it must run to completion first")
	}
	coordinator := side.Spec.InitContainers[1]
	if coordinator.RestartPolicy == nil || *coordinator.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		t.Errorf("the coordinator's restartPolicy is %v, want Always", coordinator.RestartPolicy)
	}
	coordinator.RestartPolicy = nil
	if !reflect.DeepEqual(coordinator, reg.Spec.Containers[0]) {
		t.Errorf("the coordinator changed beyond its restartPolicy:\n%+v\nwant\n%+v", coordinator, reg.Spec.Containers[0])
	}
	out, err := yaml.Marshal(&side)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "restartPolicy: Always") {
		t.Errorf("the manifest lacks restartPolicy: Always:\n%s", out)
	}
}

// TestPodStopInSidecarOrder plays the kubelet's KEP-753 stop order, by
// hand, on the example pod as it is (podman cannot play the sidecar shape,
// see needSidecars): SIGTERM to the main containers, the joins, first
// (podman stop -t 60 of both job containers, as the kubelet signals every
// main container at once), and to the coordinator only after they have
// exited. Until then the runtime never signals the coordinator: it must
// cancel on the joins' report of their SIGTERM (the terminating frame)
// alone. The running job gets exactly one SIGTERM, its cleanup completes,
// the job not started yet is skipped, and the coordinator exits with the
// job's status by itself, before the kubelet's second step would signal
// it.
func TestPodStopInSidecarOrder(t *testing.T) {
	s := need(t)
	t.Parallel()
	p := playExample(t, s, "kep753", regular, map[string][]string{
		"build": {"sh", "-c", `trap 'echo got SIGTERM; echo cleaning up; sleep 1; echo cleanup done; exit 3' TERM
echo ready
while :; do sleep 1; done`},
		"test": {"sh", "-c", "echo test ran"},
	})
	coordinator, build, test := p.container("coordinator"), p.container("build"), p.container("test")
	s.waitLogs(t, coordinator, "[build] ready")

	// The kubelet's first step: SIGTERM to every main container, SIGKILL
	// at the grace period. podman stop returns when both have exited.
	stop := s.run(t, 2*time.Minute, "stop", "-t", "60", build, test)
	if stop.code != 0 {
		t.Fatalf("podman stop of the job containers: %s", stop)
	}
	if stop.elapsed > 30*time.Second {
		t.Errorf("podman stop of the job containers took %v, want far less than the 60s grace period", stop.elapsed)
	}
	if strings.Contains(stop.stderr, "resorting to SIGKILL") {
		t.Errorf("podman had to SIGKILL a job container itself: %s", stop.stderr)
	}
	// The kubelet's second step would signal the sidecar now; the
	// coordinator, never signalled, has exited by itself or is about to.
	if state := waitExited(t, s, coordinator, 30*time.Second); state != "exited" {
		t.Errorf("coordinator still %s 30s after its job containers exited, never signalled: it did not cancel on their report\n%s", state, s.logs(t, coordinator))
		s.must(t, "stop", "-t", "60", coordinator)
	}

	logs := s.logs(t, coordinator)
	if n := strings.Count(logs, "got SIGTERM from the kubelet: cancelling"); n != 1 {
		t.Errorf("the coordinator logged %d joins' reports of SIGTERM, want the first only:\n%s", n, logs)
	}
	checkCancelledPod(t, s, logs, coordinator, build, test)
}

// waitExited waits up to within for the container to exit and returns its
// last state.
func waitExited(t *testing.T, s *suite, name string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		state := strings.TrimSpace(s.must(t, "inspect", "--format", "{{.State.Status}}", name).stdout)
		if state == "exited" || time.Now().After(deadline) {
			return state
		}
		time.Sleep(200 * time.Millisecond)
	}
}
