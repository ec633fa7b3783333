package engine

import (
	"errors"
	"testing"
)

func TestExitStatus(t *testing.T) {
	tests := []struct {
		name    string
		outcome Outcome
		exit    Exit
		cause   string
		codes   ExitCodes
		want    int
	}{
		{"job's own code", OutcomeExited, Exit{Code: 3}, "", ExitCodes{}, 3},
		{"death by signal is 128+N", OutcomeCancelled, Exit{Signal: "SIGKILL", SignalNumber: 9}, "api", ExitCodes{}, 137},
		{"signal number looked up when missing", OutcomeCancelled, Exit{Signal: "SIGTERM"}, "api", ExitCodes{}, 143},
		{"SIGQUIT death is 131", OutcomeCancelled, Exit{Signal: "SIGQUIT", SignalNumber: 3}, "signal SIGQUIT #1", ExitCodes{}, 131},
		{"SIGQUIT death is 131 whatever number the runner gave", OutcomeExited, Exit{Signal: "SIGQUIT", SignalNumber: 99}, "", ExitCodes{}, 131},
		{"abandoned takes the default", OutcomeAbandoned, Exit{Abandoned: true}, "api", ExitCodes{}, 123},
		{"abandoned takes the profile's code", OutcomeAbandoned, Exit{Abandoned: true}, "api", ExitCodes{Abandoned: 99}, 99},
		{"timeout takes 124 by default", OutcomeCancelled, Exit{Code: 0}, "timeout", ExitCodes{}, 124},
		{"timeout -1 keeps the job's status", OutcomeCancelled, Exit{Signal: "SIGTERM", SignalNumber: 15}, "timeout", ExitCodes{Timeout: -1}, 143},
		{"timeout does not hide an abandonment", OutcomeAbandoned, Exit{Abandoned: true}, "timeout", ExitCodes{}, 123},
		{"job that ended before the timeout cancelled it", OutcomeExited, Exit{Code: 2}, "", ExitCodes{}, 2},
		{"failed start passes the runner's code", OutcomeFailedToStart, Exit{Code: 127, Err: errors.New("not found")}, "", ExitCodes{}, 127},
		{"failed start without a code is internal", OutcomeFailedToStart, Exit{Err: errors.New("boom")}, "", ExitCodes{}, ExitInternal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitStatus(tc.outcome, tc.exit, tc.cause, tc.codes); got != tc.want {
				t.Errorf("exitStatus = %d, want %d", got, tc.want)
			}
		})
	}
}
