package policies

import (
	"strings"
	"testing"
	"time"
)

func TestPodBudget(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		want    time.Duration
		wantErr string
	}{
		{"pod with a grace period", "apiVersion: v1\nkind: Pod\nspec:\n  terminationGracePeriodSeconds: 45\n  containers: []\n", 45 * time.Second, ""},
		{"pod without one defaults to 30s", "apiVersion: v1\nkind: Pod\nspec:\n  containers: []\n", 30 * time.Second, ""},
		{"deployment template", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      terminationGracePeriodSeconds: 120\n", 120 * time.Second, ""},
		{"job template", "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      terminationGracePeriodSeconds: 5\n", 5 * time.Second, ""},
		{"cronjob template", "apiVersion: batch/v1\nkind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          terminationGracePeriodSeconds: 7\n", 7 * time.Second, ""},
		{"pod template", "apiVersion: v1\nkind: PodTemplate\ntemplate:\n  spec:\n    terminationGracePeriodSeconds: 9\n", 9 * time.Second, ""},
		{"several documents take the shortest", "kind: Service\n---\nkind: Pod\nspec:\n  terminationGracePeriodSeconds: 50\n---\nkind: Pod\nspec:\n  terminationGracePeriodSeconds: 40\n", 40 * time.Second, ""},
		{"JSON manifest", `{"kind":"Pod","spec":{"terminationGracePeriodSeconds":12}}`, 12 * time.Second, ""},
		{"no pod spec at all", "kind: Service\n", 0, "no pod spec"},
		{"not a manifest", "hello: world\n", 0, "no kind"},
		{"wrong type", "kind: Pod\nspec:\n  terminationGracePeriodSeconds: soon\n", 0, "document 1"},
		{"negative grace", "kind: Pod\nspec:\n  terminationGracePeriodSeconds: -1\n", 0, "negative"},
		{"a YAML error is not told in JSON's words", "kind: Pod\nspec:\n  terminationGracePeriodSeconds: \"20\"\n", 0, "pod.yaml: document 1: cannot unmarshal string into field spec.terminationGracePeriodSeconds of type int64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := podBudget("pod.yaml", []byte(tt.doc))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("want error containing %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
