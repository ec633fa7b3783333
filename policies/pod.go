package policies

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// DefaultTerminationGracePeriod is Kubernetes' default for a pod that sets
// no terminationGracePeriodSeconds.
const DefaultTerminationGracePeriod = 30 * time.Second

// PodBudget reads a Kubernetes manifest (YAML or JSON) and returns the
// termination grace period of its pod spec: a Pod, PodTemplate, Deployment,
// StatefulSet, DaemonSet, ReplicaSet, Job or CronJob. A file of several
// documents yields the shortest grace period among them. An unset
// terminationGracePeriodSeconds means 30s, as in Kubernetes.
func PodBudget(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return podBudget(path, b)
}

func podBudget(path string, b []byte) (time.Duration, error) {
	found := false
	var budget time.Duration
	for i, doc := range splitYAML(b) {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		spec, err := podSpecOf(doc)
		if err != nil {
			return 0, fmt.Errorf("%s: document %d: %s", path, i+1, yamlError(err))
		}
		if spec == nil {
			continue
		}
		g := DefaultTerminationGracePeriod
		if s := spec.TerminationGracePeriodSeconds; s != nil {
			if *s < 0 {
				return 0, fmt.Errorf("%s: document %d: terminationGracePeriodSeconds is negative (%d)", path, i+1, *s)
			}
			g = time.Duration(*s) * time.Second
		}
		if !found || g < budget {
			budget = g
		}
		found = true
	}
	if !found {
		return 0, fmt.Errorf("%s: no pod spec found; give a Pod, PodTemplate, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob", path)
	}
	return budget, nil
}

// yamlError drops the JSON layers sigs.k8s.io/yaml wraps a YAML
// manifest's error in ("error unmarshaling JSON: while decoding JSON:
// json: "), which only confuse someone who wrote YAML.
func yamlError(err error) string {
	msg := err.Error()
	for _, p := range []string{"error unmarshaling JSON: ", "while decoding JSON: ", "json: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// podSpecOf decodes one document with the real API types and returns its
// pod spec, or nil for a kind that has none (a Service beside the pod).
func podSpecOf(doc []byte) (*corev1.PodSpec, error) {
	var meta struct {
		Kind string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return nil, err
	}
	switch meta.Kind {
	case "Pod":
		var o corev1.Pod
		return &o.Spec, yaml.Unmarshal(doc, &o)
	case "PodTemplate":
		var o corev1.PodTemplate
		return &o.Template.Spec, yaml.Unmarshal(doc, &o)
	case "Deployment":
		var o appsv1.Deployment
		return &o.Spec.Template.Spec, yaml.Unmarshal(doc, &o)
	case "StatefulSet":
		var o appsv1.StatefulSet
		return &o.Spec.Template.Spec, yaml.Unmarshal(doc, &o)
	case "DaemonSet":
		var o appsv1.DaemonSet
		return &o.Spec.Template.Spec, yaml.Unmarshal(doc, &o)
	case "ReplicaSet":
		var o appsv1.ReplicaSet
		return &o.Spec.Template.Spec, yaml.Unmarshal(doc, &o)
	case "Job":
		var o batchv1.Job
		return &o.Spec.Template.Spec, yaml.Unmarshal(doc, &o)
	case "CronJob":
		var o batchv1.CronJob
		return &o.Spec.JobTemplate.Spec.Template.Spec, yaml.Unmarshal(doc, &o)
	case "":
		return nil, errors.New("no kind; is this a Kubernetes manifest?")
	default:
		return nil, nil
	}
}

// splitYAML splits a multi-document YAML stream at "---" lines.
func splitYAML(b []byte) [][]byte {
	var docs [][]byte
	var cur []byte
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		t := bytes.TrimRight(line, " \t\r\n")
		if bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) {
			docs = append(docs, cur)
			cur = nil
			continue
		}
		cur = append(cur, line...)
	}
	return append(docs, cur)
}
