package policies

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"encoding/json"

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
	// "into Go struct field podSpec.spec.x" names graceful's Go type;
	// the manifest's author knows the field by its path.
	if i := strings.Index(msg, "Go struct field "); i >= 0 {
		rest := msg[i+len("Go struct field "):]
		if dot := strings.IndexByte(rest, '.'); dot >= 0 && !strings.ContainsAny(rest[:dot], " ") {
			rest = rest[dot+1:]
		}
		msg = msg[:i] + "field " + rest
	}
	return msg
}

// podSpec is the part of a Kubernetes pod spec that validate --pod reads.
// graceful does not link the Kubernetes API types: their package
// initialisation alone cost every graceful run about 1 ms at start-up.
// Fields it does not read are not checked (kubectl's --dry-run does that);
// the fields it reads are decoded with the API's JSON names and types.
type podSpec struct {
	TerminationGracePeriodSeconds *int64         `json:"terminationGracePeriodSeconds"`
	InitContainers                []podContainer `json:"initContainers"`
	Containers                    []podContainer `json:"containers"`
}

type podContainer struct {
	Name          string   `json:"name"`
	Command       []string `json:"command"`
	Args          []string `json:"args"`
	RestartPolicy *string  `json:"restartPolicy"`
	Lifecycle     *struct {
		PreStop    *json.RawMessage `json:"preStop"`
		StopSignal *string          `json:"stopSignal"`
	} `json:"lifecycle"`
}

// podTemplate is a template holding a pod spec, as in a PodTemplate and
// the workload kinds.
type podTemplate struct {
	Spec podSpec `json:"spec"`
}

// podSpecOf decodes one document and returns its pod spec, or nil for a
// kind that has none (a Service beside the pod).
func podSpecOf(doc []byte) (*podSpec, error) {
	var meta struct {
		Kind string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return nil, err
	}
	switch meta.Kind {
	case "Pod":
		var o struct {
			Spec podSpec `json:"spec"`
		}
		return &o.Spec, yaml.Unmarshal(doc, &o)
	case "PodTemplate":
		var o struct {
			Template podTemplate `json:"template"`
		}
		return &o.Template.Spec, yaml.Unmarshal(doc, &o)
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		var o struct {
			Spec struct {
				Template podTemplate `json:"template"`
			} `json:"spec"`
		}
		return &o.Spec.Template.Spec, yaml.Unmarshal(doc, &o)
	case "CronJob":
		var o struct {
			Spec struct {
				JobTemplate struct {
					Spec struct {
						Template podTemplate `json:"template"`
					} `json:"spec"`
				} `json:"jobTemplate"`
			} `json:"spec"`
		}
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
