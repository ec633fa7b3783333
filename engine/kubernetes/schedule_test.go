//go:build linux

package kubernetes

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graceful-sh/graceful/engine"
)

// step is one event given to a schedule; it returns what came of it, as
// text for the transcript.
type step struct {
	name string
	do   func(t *testing.T, s *schedule) []string
}

// connect is a container presenting name: it claims a slot and connects.
func connect(name string) step {
	return step{"connect " + name, func(t *testing.T, s *schedule) []string {
		i, why := s.claim(name)
		if i < 0 {
			return []string{"refused: " + why}
		}
		acts, ok := s.connected(i)
		if !ok {
			return []string{fmt.Sprintf("told to skip as %s (%s)", s.slots[i].Name, s.slots[i].Reason)}
		}
		return render(acts)
	}}
}

func exit(name string, e engine.Exit) step {
	return step{fmt.Sprintf("exit %s %d", name, e.Status()), func(t *testing.T, s *schedule) []string {
		acts, ok := s.exited(slotOf(t, s, name), e)
		if !ok {
			return []string{"out of order"}
		}
		return render(acts)
	}}
}

func lose(name string) step {
	return step{"lose " + name, func(t *testing.T, s *schedule) []string {
		return render(s.lost(slotOf(t, s, name), "connection closed"))
	}}
}

func slotOf(t *testing.T, s *schedule, name string) int {
	t.Helper()
	for i, st := range s.slots {
		if st.Name == name {
			return i
		}
	}
	t.Fatalf("no slot named %s", name)
	return -1
}

func render(acts []act) []string {
	var out []string
	for _, a := range acts {
		st := a.Status
		switch a.Kind {
		case actDone:
			line := fmt.Sprintf("done %d", a.Exit.Status())
			if a.Exit.Abandoned {
				line += " abandoned"
			}
			if a.Exit.Err != nil {
				line += fmt.Sprintf(" (%v)", a.Exit.Err)
			}
			out = append(out, line)
		case actSkip, actLost, actNeverConnected:
			out = append(out, fmt.Sprintf("%s %s (%s)", a.Kind, st.displayName(), st.Reason))
		default:
			out = append(out, fmt.Sprintf("%s %s", a.Kind, st.Name))
		}
	}
	return out
}

// TestSchedule runs the coordinator's scheduling policy without a socket:
// each case is a series of events and the transcript of what the
// coordinator is told to do, one line an event.
func TestSchedule(t *testing.T) {
	// The events without a container's name, and the exits.
	var (
		startTimeout = step{"start timeout", func(_ *testing.T, s *schedule) []string { return render(s.timedOut()) }}
		cancel       = step{"cancel", func(_ *testing.T, s *schedule) []string {
			acts, ok := s.cancel()
			if !ok {
				return []string{"gone"}
			}
			return render(acts)
		}}
		abandon  = step{"abandon", func(_ *testing.T, s *schedule) []string { return render(s.abandon()) }}
		ok       = engine.Exit{}
		failed   = engine.Exit{Code: 3}
		sigterm  = engine.Exit{Signal: "SIGTERM", SignalNumber: 15}
		notFound = engine.Exit{Code: 127, Err: errors.New("command not found")}
	)
	tests := []struct {
		name     string
		jobs     []string // declared names, in start order
		count    int      // without jobs: this many containers, named as they come
		parallel bool
		steps    []step
		want     string // "event: act, act" a line
		states   map[string]State
	}{
		{
			name:  "second job waits for the first",
			jobs:  []string{"a", "b"},
			steps: []step{connect("b"), connect("a")},
			want: `
connect b
connect a: start a`,
			states: map[string]State{"a": StateRunning, "b": StateWaiting},
		},
		{
			name:  "the next starts when the previous exits 0",
			jobs:  []string{"a", "b"},
			steps: []step{connect("a"), connect("b"), exit("a", ok), exit("b", ok)},
			want: `
connect a: start a
connect b
exit a 0: ack a, start b
exit b 0: ack b, done 0`,
			states: map[string]State{"a": StateExited, "b": StateExited},
		},
		{
			name:     "parallel starts all",
			jobs:     []string{"a", "b", "c"},
			parallel: true,
			steps:    []step{connect("c"), connect("a"), connect("b")},
			want: `
connect c: start c
connect a: start a
connect b: start b`,
			states: map[string]State{"a": StateRunning, "b": StateRunning, "c": StateRunning},
		},
		{
			name:  "a failure skips every container after it at once",
			jobs:  []string{"a", "b", "c", "d"},
			steps: []step{connect("a"), connect("b"), connect("c"), exit("a", failed), connect("d")},
			want: `
connect a: start a
connect b
connect c
exit a 3: ack a, skip b (container a failed (exited)), skip c (container a failed (exited)), skip d (container a failed (exited)), done 3
connect d: told to skip as d (container a failed (exited))`,
			states: map[string]State{"a": StateExited, "b": StateSkipped, "c": StateSkipped, "d": StateSkipped},
		},
		{
			name:  "a job that could not be started fails like any other",
			jobs:  []string{"a", "b"},
			steps: []step{connect("a"), exit("a", notFound)},
			want: `
connect a: start a
exit a 127: ack a, skip b (container a failed (exited)), done 127 (command not found)`,
			states: map[string]State{"a": StateExited, "b": StateSkipped},
		},
		{
			name:     "in parallel a failure skips nobody",
			jobs:     []string{"a", "b"},
			parallel: true,
			steps:    []step{connect("a"), connect("b"), exit("a", failed), exit("b", ok)},
			want: `
connect a: start a
connect b: start b
exit a 3: ack a
exit b 0: ack b, done 3`,
			states: map[string]State{"a": StateExited, "b": StateExited},
		},
		{
			name:     "the first failure in start order is the job's status",
			jobs:     []string{"a", "b"},
			parallel: true,
			steps:    []step{connect("a"), connect("b"), exit("b", failed), exit("a", sigterm)},
			want: `
connect a: start a
connect b: start b
exit b 3: ack b
exit a 143: ack a, done 143`,
			states: map[string]State{"a": StateExited, "b": StateExited},
		},
		{
			name:  "a job that never connects is never-connected at the start timeout",
			jobs:  []string{"a", "b"},
			steps: []step{connect("a"), exit("a", ok), startTimeout},
			want: `
connect a: start a
exit a 0: ack a
start timeout: never-connected b (did not connect within 1m0s), done 125 (job container never connected)`,
			states: map[string]State{"a": StateExited, "b": StateNeverConnected},
		},
		{
			name:  "the start timeout skips the containers after the one that never connected",
			jobs:  []string{"a", "b"},
			steps: []step{connect("b"), startTimeout},
			want: `
connect b
start timeout: never-connected a (did not connect within 1m0s), skip b (container a failed (never-connected)), done 125 (job container never connected)`,
			states: map[string]State{"a": StateNeverConnected, "b": StateSkipped},
		},
		{
			name:  "a container arriving after the start timeout is told to skip",
			jobs:  []string{"a"},
			steps: []step{startTimeout, connect("a")},
			want: `
start timeout: never-connected a (did not connect within 1m0s), done 125 (job container never connected)
connect a: told to skip as a (did not connect within 1m0s)`,
			states: map[string]State{"a": StateNeverConnected},
		},
		{
			name:  "without declared names a late container takes a slot given up at the start timeout",
			count: 1,
			steps: []step{startTimeout, connect("late")},
			want: `
start timeout: never-connected job-0 (did not connect within 1m0s), done 125 (job container never connected)
connect late: told to skip as job-0 (did not connect within 1m0s)`,
			states: map[string]State{"job-0": StateNeverConnected},
		},
		{
			name:  "lost peer",
			jobs:  []string{"a", "b"},
			steps: []step{connect("a"), connect("b"), lose("a"), connect("a")},
			want: `
connect a: start a
connect b
lose a: lost a (connection closed), skip b (container a failed (lost)), done 123 abandoned
connect a: refused: container a already connected`,
			states: map[string]State{"a": StateLost, "b": StateSkipped},
		},
		{
			name:  "a waiting container that goes is lost too",
			jobs:  []string{"a", "b"},
			steps: []step{connect("a"), connect("b"), lose("b"), exit("a", ok)},
			want: `
connect a: start a
connect b
lose b: lost b (connection closed)
exit a 0: ack a, done 123 abandoned`,
			states: map[string]State{"a": StateExited, "b": StateLost},
		},
		{
			name:  "a connection that ends after the exit report loses nothing",
			jobs:  []string{"a"},
			steps: []step{connect("a"), exit("a", ok), lose("a")},
			want: `
connect a: start a
exit a 0: ack a, done 0
lose a`,
			states: map[string]State{"a": StateExited},
		},
		{
			name:  "cancel before a job started skips it",
			jobs:  []string{"a", "b", "c"},
			steps: []step{connect("a"), connect("b"), cancel, exit("a", sigterm), connect("c")},
			want: `
connect a: start a
connect b
cancel: interrupt a, skip b (cancelled), skip c (cancelled)
exit a 143: ack a, done 143
connect c: told to skip as c (cancelled)`,
			states: map[string]State{"a": StateExited, "b": StateSkipped, "c": StateSkipped},
		},
		{
			name:  "a cancelled job whose running part succeeded is skipped",
			jobs:  []string{"a", "b"},
			steps: []step{connect("a"), cancel, exit("a", ok)},
			want: `
connect a: start a
cancel: interrupt a, skip b (cancelled)
exit a 0: ack a, done 122`,
			states: map[string]State{"a": StateExited, "b": StateSkipped},
		},
		{
			name:  "cancel before anything connected",
			jobs:  []string{"a"},
			steps: []step{cancel},
			want: `
cancel: skip a (cancelled), done 122`,
			states: map[string]State{"a": StateSkipped},
		},
		{
			name:  "cancel after the end is refused",
			jobs:  []string{"a"},
			steps: []step{connect("a"), exit("a", ok), cancel},
			want: `
connect a: start a
exit a 0: ack a, done 0
cancel: gone`,
			states: map[string]State{"a": StateExited},
		},
		{
			name:     "cancel interrupts every running container at once",
			jobs:     []string{"a", "b"},
			parallel: true,
			steps:    []step{connect("a"), connect("b"), cancel, cancel},
			want: `
connect a: start a
connect b: start b
cancel: interrupt a, interrupt b
cancel: interrupt a, interrupt b`,
			states: map[string]State{"a": StateRunning, "b": StateRunning},
		},
		{
			name:  "abandon says bye to running containers and skips the others",
			jobs:  []string{"a", "b"},
			steps: []step{connect("a"), connect("b"), abandon, exit("a", ok)},
			want: `
connect a: start a
connect b
abandon: abandon a, skip b (abandoned), done 123 abandoned
exit a 0: out of order`,
			states: map[string]State{"a": StateAbandoned, "b": StateSkipped},
		},
		{
			name:  "an unknown name is refused",
			jobs:  []string{"a", "b"},
			steps: []step{connect("x"), connect("")},
			want: `
connect x: refused: unknown container "x" (expected one of: a, b)
connect : refused: unknown container "" (expected one of: a, b)`,
			states: map[string]State{"a": StatePending, "b": StatePending},
		},
		{
			name:  "a declared name connects once",
			jobs:  []string{"a"},
			steps: []step{connect("a"), connect("a")},
			want: `
connect a: start a
connect a: refused: container a already connected`,
			states: map[string]State{"a": StateRunning},
		},
		{
			name:  "without declared names containers start in the order they connect",
			count: 2,
			steps: []step{connect("y"), connect("x"), exit("y", ok)},
			want: `
connect y: start y
connect x
exit y 0: ack y, start x`,
			states: map[string]State{"y": StateExited, "x": StateRunning},
		},
		{
			name:     "a container without a name gets one nobody presented",
			count:    3,
			parallel: true,
			steps:    []step{connect("job-1"), connect(""), connect(""), connect("job-9")},
			want: `
connect job-1: start job-1
connect : start job-2
connect : start job-3
connect job-9: refused: all 3 job containers have already connected`,
			states: map[string]State{"job-1": StateRunning, "job-2": StateRunning, "job-3": StateRunning},
		},
		{
			name:  "without declared names a name is taken once",
			count: 2,
			steps: []step{connect("x"), connect("x")},
			want: `
connect x: start x
connect x: refused: container x already connected`,
			states: map[string]State{"x": StateRunning, "": StatePending},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSchedule(tt.jobs, tt.count, tt.parallel, time.Minute)
			var lines []string
			for _, st := range tt.steps {
				line := st.name
				if out := st.do(t, s); len(out) > 0 {
					line += ": " + strings.Join(out, ", ")
				}
				lines = append(lines, line)
			}
			if d := cmp.Diff(strings.Split(strings.TrimPrefix(tt.want, "\n"), "\n"), lines); d != "" {
				t.Errorf("transcript (-want +got):\n%s", d)
			}
			got := map[string]State{}
			for _, st := range s.slots {
				got[st.Name] = st.State
			}
			if d := cmp.Diff(tt.states, got); d != "" {
				t.Errorf("states (-want +got):\n%s", d)
			}
		})
	}
}
