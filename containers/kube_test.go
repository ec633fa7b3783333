//go:build linux

package containers

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// examplePod is the pod the docs describe; the kube tests play it.
const examplePod = "../examples/kubernetes/pod.yaml"

// exampleImage is the graceful image the example pod names.
const exampleImage = "ghcr.io/graceful-sh/graceful:latest"

// shape is where a pod's coordinator runs; docs/kubernetes.md shows both.
type shape int

const (
	// regular: the coordinator is one of the pod's containers, as in
	// examples/kubernetes/pod.yaml.
	regular shape = iota
	// sidecar: the coordinator is a native sidecar (KEP-753), an init
	// container with restartPolicy: Always, after install-graceful.
	sidecar
)

// prefix sets the names of a shape's pods apart.
func (sh shape) prefix() string {
	if sh == sidecar {
		return "sidecar-"
	}
	return ""
}

// pod is a played copy of the example pod.
type pod struct {
	s    *suite
	name string // the pod's name; podman names its containers NAME-CONTAINER
	file string // the manifest played
}

// playExample plays examples/kubernetes/pod.yaml, changed only as a local
// run needs: a pod name unique to the test, the graceful image replaced by
// the one the suite built, the job images by the busybox one, and each job
// container's command (after join's "--") by jobs[name]. Everything else
// (securityContext, volumes, the coordinator's flags, the grace period) is
// the example's own. In the sidecar shape the coordinator container moves,
// as it is, to the end of the init containers with restartPolicy: Always.
// The pod is removed when the test ends.
func playExample(t *testing.T, s *suite, what string, sh shape, jobs map[string][]string) *pod {
	t.Helper()
	p, volumes := exampleFor(t, "graceful-test-"+s.id+"-pod-"+what, s.image, s.jobs, sh, jobs)
	out, err := yaml.Marshal(&p)
	if err != nil {
		t.Fatal(err)
	}
	pd := &pod{s: s, name: p.Name, file: filepath.Join(t.TempDir(), "pod.yaml")}
	if err := os.WriteFile(pd.file, out, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r := s.run(t, 2*time.Minute, "kube", "down", pd.file)
		if r.code != 0 {
			t.Errorf("cleanup: podman kube down: %s", r)
		}
		for _, v := range volumes {
			r := s.run(t, time.Minute, "volume", "rm", "--force", v)
			if r.code != 0 && !strings.Contains(r.stderr, "no such volume") {
				t.Errorf("cleanup: podman volume rm %s: %s", v, r)
			}
		}
	})
	s.must(t, "kube", "play", pd.file)
	return pd
}

// exampleFor returns examples/kubernetes/pod.yaml as playExample plays it:
// named name, with the graceful image, the job images and the job
// commands replaced, in the shape sh; and its volumes' names.
func exampleFor(t *testing.T, name, image, jobsImage string, sh shape, jobs map[string][]string) (corev1.Pod, []string) {
	t.Helper()
	b, err := os.ReadFile(examplePod)
	if err != nil {
		t.Fatal(err)
	}
	var p corev1.Pod
	if err := yaml.UnmarshalStrict(b, &p); err != nil {
		t.Fatalf("%s: %v", examplePod, err)
	}
	p.Name = name
	if sh == sidecar {
		i := slices.IndexFunc(p.Spec.Containers, func(c corev1.Container) bool { return c.Name == "coordinator" })
		if i < 0 {
			t.Fatalf("%s: no container named coordinator", examplePod)
		}
		c := p.Spec.Containers[i]
		always := corev1.ContainerRestartPolicyAlways
		c.RestartPolicy = &always
		p.Spec.Containers = slices.Delete(p.Spec.Containers, i, i+1)
		p.Spec.InitContainers = append(p.Spec.InitContainers, c)
	}
	// podman kube play makes an emptyDir a named volume, by the volume's
	// name, shared by every pod played with that name and kept while one
	// of them exists: give this pod's volumes names of their own.
	var volumes []string
	for i := range p.Spec.Volumes {
		p.Spec.Volumes[i].Name = p.Name + "-" + p.Spec.Volumes[i].Name
		volumes = append(volumes, p.Spec.Volumes[i].Name)
	}
	replaced := map[string]bool{}
	for _, list := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range list {
			c := &list[i]
			for j := range c.VolumeMounts {
				c.VolumeMounts[j].Name = p.Name + "-" + c.VolumeMounts[j].Name
			}
			if c.Image == exampleImage {
				c.Image = image
				continue
			}
			argv, ok := jobs[c.Name]
			if !ok {
				t.Fatalf("%s: no command given for job container %s", examplePod, c.Name)
			}
			dash := slices.Index(c.Command, "--")
			if dash < 0 {
				t.Fatalf("%s: container %s: no \"--\" in its command %q", examplePod, c.Name, c.Command)
			}
			c.Image = jobsImage
			c.Command = append(c.Command[:dash+1:dash+1], argv...)
			replaced[c.Name] = true
		}
	}
	for job := range jobs {
		if !replaced[job] {
			t.Fatalf("%s: no job container %s", examplePod, job)
		}
	}
	return p, volumes
}

// container returns the name podman gave the pod's container c.
func (p *pod) container(c string) string { return p.name + "-" + c }

// logReports logs whether a join reported the runtime's SIGTERM to the
// coordinator (the terminating frame; the coordinator logs the first).
// With podman pod stop signalling every container at once, the
// coordinator's own SIGTERM and the report race, and cancellation starts
// on whichever comes first: logged, not checked.
func logReports(t *testing.T, coordinatorLogs string) {
	t.Helper()
	for _, l := range strings.Split(coordinatorLogs, "\n") {
		if strings.HasSuffix(l, "from the kubelet: cancelling") {
			t.Logf("a join reported its SIGTERM: %s", l)
			return
		}
	}
	t.Logf("no join's report of its SIGTERM in the coordinator's log")
}

// TestPodRunsJobsInOrder plays the example pod with two short jobs: they
// run one after the other in the declared order, the coordinator's log has
// their output with a [name] prefix, and every container exits 0.
func TestPodRunsJobsInOrder(t *testing.T) {
	s := need(t)
	t.Parallel()
	podRunsJobsInOrder(t, s, regular)
}

func podRunsJobsInOrder(t *testing.T, s *suite, sh shape) {
	p := playExample(t, s, sh.prefix()+"order", sh, map[string][]string{
		"build": {"sh", "-c", "echo building; sleep 1; echo built"},
		"test":  {"sh", "-c", "echo testing; echo tested; echo to stderr >&2"},
	})
	coordinator := p.container("coordinator")
	if code := exitCode(t, s, coordinator); code != 0 {
		t.Errorf("coordinator: exit status %d, want 0\n%s", code, s.logs(t, coordinator))
	}
	// podman keeps stdout and stderr apart (conmon reads two pipes), so
	// only lines of one stream have an order to check.
	logs := s.logs(t, coordinator)
	if countLines(logs, "[test] to stderr") != 1 {
		t.Errorf("coordinator's log lacks the job's stderr line \"[test] to stderr\":\n%s", logs)
	}
	logs = s.must(t, "logs", coordinator).stdout
	order := []string{"[build] building", "[build] built", "[test] testing", "[test] tested"}
	last := -1
	for _, line := range order {
		i := strings.Index(logs, line)
		if i < 0 {
			t.Errorf("coordinator's log lacks %q:\n%s", line, logs)
			continue
		}
		if i < last {
			t.Errorf("%q out of order (want %v):\n%s", line, order, logs)
		}
		last = i
	}
	for _, c := range []string{"build", "test"} {
		if code := exitCode(t, s, p.container(c)); code != 0 {
			t.Errorf("job container %s: exit status %d, want 0\n%s", c, code, s.logs(t, p.container(c)))
		}
	}
}

// TestPodStop plays the example pod and stops it as the kubelet deletes a
// pod: SIGTERM to every container at once, SIGKILL after the grace period
// (podman pod stop -t 60). The running job gets exactly one SIGTERM (from
// its join's timeline, not the runtime's), finishes its cleanup, and the
// coordinator exits with the job's status well within the grace period;
// the job not started yet is skipped.
func TestPodStop(t *testing.T) {
	s := need(t)
	t.Parallel()
	podStop(t, s, regular)
}

func podStop(t *testing.T, s *suite, sh shape) {
	p := playExample(t, s, sh.prefix()+"stop", sh, map[string][]string{
		"build": {"sh", "-c", `trap 'echo got SIGTERM; echo cleaning up; sleep 1; echo cleanup done; exit 3' TERM
echo ready
while :; do sleep 1; done`},
		"test": {"sh", "-c", "echo test ran"},
	})
	coordinator, build := p.container("coordinator"), p.container("build")
	stop := stopWhenBuildReady(t, s, p)
	if stop.elapsed > 30*time.Second {
		t.Errorf("podman pod stop took %v, want far less than the 60s grace period", stop.elapsed)
	}
	logs := s.logs(t, coordinator)
	logReports(t, logs)
	checkCancelledPod(t, s, logs, coordinator, build, p.container("test"))
}

// stopWhenBuildReady waits for the build job's "ready" in the
// coordinator's log, then stops the pod as the kubelet deletes one
// (podman pod stop -t 60: SIGTERM to every container, SIGKILL at 60s).
func stopWhenBuildReady(t *testing.T, s *suite, p *pod) result {
	t.Helper()
	s.waitLogs(t, p.container("coordinator"), "[build] ready")
	stop := s.run(t, 2*time.Minute, "pod", "stop", "-t", "60", p.name)
	if stop.code != 0 {
		t.Fatalf("podman pod stop: %s", stop)
	}
	return stop
}

// checkCancelledPod checks the end of a pod whose first job (build) was
// cancelled while it ran: it got SIGTERM once and finished its cleanup,
// it and the coordinator exit with its status 3, and the second job
// (test) was skipped (122).
func checkCancelledPod(t *testing.T, s *suite, logs, coordinator, build, test string) {
	t.Helper()
	if code := exitCode(t, s, coordinator); code != 3 {
		t.Errorf("coordinator: exit status %d, want 3 (the job's)\n%s", code, logs)
	}
	if n := countLines(logs, "[build] got SIGTERM"); n != 1 {
		t.Errorf("the job got SIGTERM %d times, want once:\n%s", n, logs)
	}
	if countLines(logs, "[build] cleanup done") != 1 {
		t.Errorf("the job's cleanup did not complete:\n%s", logs)
	}
	if countLines(logs, "[test] test ran") > 0 {
		t.Errorf("the second job ran after cancellation:\n%s", logs)
	}
	if code := exitCode(t, s, build); code != 3 {
		t.Errorf("job container build: exit status %d, want 3\n%s", code, s.logs(t, build))
	}
	if code := exitCode(t, s, test); code != 122 {
		t.Errorf("job container test: exit status %d, want 122 (skipped)\n%s", code, s.logs(t, test))
	}
}

// TestPodStopJobIgnoringTERM: a job that ignores SIGTERM is SIGKILLed by
// its join's local timeline at 9s; the coordinator reports 137, long
// before the kubelet's (podman's) SIGKILL at the 60s grace period.
func TestPodStopJobIgnoringTERM(t *testing.T) {
	s := need(t)
	t.Parallel()
	podStopJobIgnoringTERM(t, s, regular)
}

func podStopJobIgnoringTERM(t *testing.T, s *suite, sh shape) {
	p := playExample(t, s, sh.prefix()+"ignores-term", sh, map[string][]string{
		"build": {"sh", "-c", `trap 'echo got SIGTERM' TERM
echo ready
while :; do sleep 1; done`},
		"test": {"sh", "-c", "echo test ran"},
	})
	coordinator, build := p.container("coordinator"), p.container("build")
	stop := stopWhenBuildReady(t, s, p)
	if strings.Contains(stop.stderr, "resorting to SIGKILL") {
		t.Errorf("podman had to SIGKILL a container itself: %s", stop.stderr)
	}
	// join kills at 9s; podman would at 60s. Generous both ways.
	if stop.elapsed < 8*time.Second || stop.elapsed > 40*time.Second {
		t.Errorf("podman pod stop took %v, want about 9s (join's kill step)", stop.elapsed)
	}
	logs := s.logs(t, coordinator)
	logReports(t, logs)
	if code := exitCode(t, s, coordinator); code != 137 {
		t.Errorf("coordinator: exit status %d, want 137 (the job's SIGKILL)\n%s", code, logs)
	}
	if n := countLines(logs, "[build] got SIGTERM"); n != 1 {
		t.Errorf("the job got SIGTERM %d times, want once:\n%s", n, logs)
	}
	joinLogs := s.logs(t, build)
	if code := exitCode(t, s, build); code != 137 {
		t.Errorf("job container build: exit status %d, want 137\n%s", code, joinLogs)
	}
	if !strings.Contains(joinLogs, "step:kill") || !strings.Contains(joinLogs, "signal SIGKILL → tree: ok") {
		t.Errorf("join's events lack its kill step:\n%s", joinLogs)
	}
}
