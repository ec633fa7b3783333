package sim

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseBehaviour(t *testing.T) {
	tests := []struct {
		in   string
		want Behaviour
		err  string
	}{
		{in: "exits-on-term", want: Behaviour{Reaction: Dies}},
		{in: "ignores-term", want: Behaviour{Reaction: Ignores}},
		{in: "never", want: Behaviour{Reaction: Ignores}},
		{in: "exits-after=2s", want: Behaviour{Reaction: ExitsAfter, After: 2 * time.Second}},
		{in: "exits-at=30s,code=3", want: Behaviour{Reaction: Dies, At: 30 * time.Second, Code: 3}},
		{in: "ignores-term, exec-takes=40s, exec-fails", want: Behaviour{Reaction: Ignores, ExecTakes: 40 * time.Second, ExecErr: errors.New("exit status 1")}},
		{in: "exits-soon", err: `unknown clause "exits-soon"`},
		{in: "exits-after", err: "needs a duration"},
		{in: "exits-after=-1s", err: "must not be negative"},
		{in: "exits-at=0s", err: "must be positive"},
		{in: "code=x", err: "invalid syntax"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseBehaviour(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			errText := cmp.Transformer("error", func(e error) string {
				if e == nil {
					return ""
				}
				return e.Error()
			})
			if diff := cmp.Diff(tc.want, got, errText); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseInput(t *testing.T) {
	tests := []struct {
		in   string
		want Input
		err  string
	}{
		{in: "0s:SIGINT", want: Input{Signal: "SIGINT"}},
		{in: "1.5s:term", want: Input{At: 1500 * time.Millisecond, Signal: "SIGTERM"}},
		{in: "2s:cancel", want: Input{At: 2 * time.Second, Cancel: "api"}},
		{in: "0s:timeout", want: Input{Cancel: "timeout"}},
		{in: "SIGINT", err: "want OFFSET:SIGNAL"},
		{in: "-1s:SIGINT", err: "bad offset"},
		{in: "1s:SIGFOO", err: "unknown signal"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseInput(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
