package policies

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"sigs.k8s.io/yaml"
)

// DefaultStartTimeout is --start-timeout's default for run (kubernetes)
// and join, kubernetes.DefaultStartTimeout (a test keeps them equal).
const DefaultStartTimeout = 5 * time.Minute

// PodContainer is a container of a pod that runs graceful, as its
// command and args say.
type PodContainer struct {
	Name string
	// Role is "run" (the coordinator, or a single-container entrypoint)
	// or "join".
	Role    string
	Init    bool // an init container
	Sidecar bool // an init container with restartPolicy Always (KEP-753)
	// Profile and Policy are its --profile and --policy ("" when not
	// given); Socket and StartTimeout its --socket and --start-timeout.
	Profile, Policy, Socket string
	StartTimeout            time.Duration
	PreStop                 bool   // it has a preStop hook
	StopSignal              string // lifecycle.stopSignal, "" when unset
}

// Pod is what validate --pod needs of one pod spec.
type Pod struct {
	Document  int           // 1-based document of the manifest
	Grace     time.Duration // terminationGracePeriodSeconds, or 30s
	GraceSet  bool
	Graceful  []PodContainer
	NotGrace  []string // containers that do not run graceful
	StopByAll []string // containers with a lifecycle.stopSignal other than SIGTERM
}

// ReadPods reads the pod specs of a manifest and the graceful containers
// in each. A "kind: List" document is refused: its items are not read.
func ReadPods(path string) ([]Pod, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var pods []Pod
	for i, doc := range splitYAML(b) {
		if len(strings.TrimSpace(string(doc))) == 0 {
			continue
		}
		var meta struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &meta); err == nil && strings.HasSuffix(meta.Kind, "List") {
			return nil, fmt.Errorf("%s: document %d: a %s is not read; write its items as documents of their own, separated by ---", path, i+1, meta.Kind)
		}
		spec, err := podSpecOf(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %s", path, i+1, yamlError(err))
		}
		if spec == nil {
			continue
		}
		p := Pod{Document: i + 1, Grace: DefaultTerminationGracePeriod}
		if s := spec.TerminationGracePeriodSeconds; s != nil {
			if *s < 0 {
				return nil, fmt.Errorf("%s: document %d: terminationGracePeriodSeconds is negative (%d)", path, i+1, *s)
			}
			p.Grace, p.GraceSet = time.Duration(*s)*time.Second, true
		}
		add := func(c podContainer, init bool) {
			gc, ok := gracefulContainer(c)
			if !ok {
				p.NotGrace = append(p.NotGrace, c.Name)
				return
			}
			gc.Init = init
			gc.Sidecar = init && c.RestartPolicy != nil && *c.RestartPolicy == "Always"
			p.Graceful = append(p.Graceful, gc)
		}
		for _, c := range spec.InitContainers {
			add(c, true)
		}
		for _, c := range spec.Containers {
			add(c, false)
		}
		pods = append(pods, p)
	}
	if len(pods) == 0 {
		return nil, fmt.Errorf("%s: no pod spec found; give a Pod, PodTemplate, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob", path)
	}
	return pods, nil
}

// gracefulContainer reads a container's command and args as graceful's
// command line: a program named graceful, then run or join.
func gracefulContainer(c podContainer) (PodContainer, bool) {
	argv := append(append([]string(nil), c.Command...), c.Args...)
	i := 0
	for i < len(argv) && filepath.Base(argv[i]) != "graceful" {
		i++
	}
	// An image whose entrypoint is graceful may give only args.
	if i == len(argv) {
		if len(c.Command) > 0 || len(c.Args) == 0 || (c.Args[0] != "run" && c.Args[0] != "join") {
			return PodContainer{}, false
		}
		i = -1
	}
	rest := argv[i+1:]
	if len(rest) == 0 || (rest[0] != "run" && rest[0] != "join") {
		return PodContainer{}, false
	}
	pc := PodContainer{Name: c.Name, Role: rest[0], StartTimeout: DefaultStartTimeout}
	if c.Lifecycle != nil {
		pc.PreStop = c.Lifecycle.PreStop != nil
		if c.Lifecycle.StopSignal != nil {
			pc.StopSignal = string(*c.Lifecycle.StopSignal)
		}
	}
	for j := 1; j < len(rest); j++ {
		a := rest[j]
		if a == "--" {
			break
		}
		name, val, has := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !has && j+1 < len(rest) && strings.HasPrefix(a, "-") {
			switch name {
			case "profile", "policy", "socket", "start-timeout":
				j++
				val = rest[j]
			}
		}
		switch name {
		case "profile":
			pc.Profile = val
		case "policy":
			pc.Policy = val
		case "socket":
			pc.Socket = val
		case "start-timeout":
			if d, err := time.ParseDuration(val); err == nil {
				pc.StartTimeout = d
			}
		}
	}
	if pc.Profile == "" {
		pc.Profile = "process"
	}
	return pc, true
}

// CheckPods returns validate --pod's findings about the pods themselves,
// as diagnostics without a source range (they are about the manifest):
// a grace period left unset, preStop hooks, stop signals other than
// SIGTERM, a coordinator missing or duplicated, joins on another socket
// or with a shorter start timeout than the coordinator's.
func CheckPods(path string, pods []Pod) hcl.Diagnostics {
	var diags hcl.Diagnostics
	add := func(sev hcl.DiagnosticSeverity, summary, detail string) {
		diags = append(diags, &hcl.Diagnostic{Severity: sev, Summary: summary, Detail: detail})
	}
	for _, p := range pods {
		where := fmt.Sprintf("%s (document %d)", path, p.Document)
		var coords []PodContainer
		var joins []PodContainer
		for _, c := range p.Graceful {
			if c.Role == "join" {
				joins = append(joins, c)
			} else if c.Socket != "" {
				coords = append(coords, c)
			}
			if c.PreStop {
				add(hcl.DiagWarning, "preStop hook in the grace period",
					fmt.Sprintf("Container %q of %s has a preStop hook. Its time counts against terminationGracePeriodSeconds (%s) before graceful gets SIGTERM: raise the grace period by the hook's time, or move the hook into the profile as a command step.", c.Name, where, FormatDuration(p.Grace)))
			}
			if c.StopSignal != "" && c.StopSignal != "SIGTERM" {
				add(hcl.DiagWarning, "Stop signal other than SIGTERM",
					fmt.Sprintf("Container %q of %s sets lifecycle.stopSignal %s; graceful's kubernetes profile and join expect the kubelet's SIGTERM. Remove stopSignal, or write a profile whose trigger is %s.", c.Name, where, c.StopSignal, c.StopSignal))
			}
		}
		if len(joins) > 0 && len(coords) == 0 {
			add(hcl.DiagError, "No coordinator",
				fmt.Sprintf("%s has %d graceful join container(s) but no coordinator (graceful run --profile kubernetes --socket PATH): the joins would wait for a socket nobody serves. Add the coordinator container, or a native sidecar.", where, len(joins)))
		}
		if len(coords) > 1 {
			add(hcl.DiagError, "More than one coordinator",
				fmt.Sprintf("%s has %d coordinators (%s); a pod needs exactly one.", where, len(coords), names(coords)))
		}
		if len(coords) == 1 {
			co := coords[0]
			for _, j := range joins {
				if j.Socket != co.Socket {
					add(hcl.DiagError, "Join on another socket",
						fmt.Sprintf("Container %q of %s joins --socket %s, but the coordinator %q serves %s. Use the coordinator's socket.", j.Name, where, j.Socket, co.Name, co.Socket))
				}
				if j.StartTimeout < co.StartTimeout {
					add(hcl.DiagWarning, "Join gives up before the coordinator",
						fmt.Sprintf("Container %q of %s waits %s for the coordinator (--start-timeout), less than the coordinator's %s for it: it may give up while the coordinator still waits. Give it at least %s.", j.Name, where, FormatDuration(j.StartTimeout), FormatDuration(co.StartTimeout), FormatDuration(co.StartTimeout)))
				}
			}
			if !p.GraceSet {
				add(hcl.DiagWarning, "Grace period left unset",
					fmt.Sprintf("%s sets no terminationGracePeriodSeconds, so Kubernetes gives 30s, not the 60s the built-in kubernetes profile is written for (deadline 58s). Set terminationGracePeriodSeconds: 60, or write a profile that extends kubernetes with a deadline under 30s.", where))
			}
		}
	}
	return diags
}

func names(cs []PodContainer) string {
	var n []string
	for _, c := range cs {
		n = append(n, c.Name)
	}
	return strings.Join(n, ", ")
}

// PodProfiles are the profiles the pods' graceful containers run, for the
// budget check: every graceful container's (its timeline must fit in the
// grace period too).
func PodProfiles(pods []Pod) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range pods {
		for _, c := range p.Graceful {
			if !seen[c.Profile] {
				seen[c.Profile] = true
				out = append(out, c.Profile)
			}
		}
	}
	return out
}
