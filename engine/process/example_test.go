//go:build linux

package process_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/process"
	"github.com/graceful-sh/graceful/policies"
)

// Run a command under a profile: start it, hand the runner to an engine,
// and close the runner when the engine is done, so nothing of the job
// outlives the run.
func Example() {
	prof := &engine.Profile{
		Name:     "example",
		Runner:   engine.RunnerProcess,
		Triggers: map[string][]engine.Action{"SIGTERM": {engine.ActionCancel}},
		Steps: []engine.Step{
			{Name: "interrupt", Kind: engine.StepSignal, Signal: "SIGTERM", Scope: engine.ScopeGroup},
			{Name: "kill", At: 2 * time.Second, Kind: engine.StepSignal, Signal: "SIGKILL", Scope: engine.ScopeTree},
		},
		Deadline: 3 * time.Second,
	}
	job, err := process.Start(process.Options{Args: []string{"/bin/sh", "-c", "echo hello from the job; exit 3"}})
	if job == nil {
		fmt.Println(err)
		return
	}
	defer job.Close(5 * time.Second)

	eng, err := engine.New(engine.Config{Profile: prof, Target: job})
	if err != nil {
		fmt.Println(err)
		return
	}
	res := eng.Run(context.Background())
	fmt.Println(res.Outcome, res.Status)
	// Output:
	// hello from the job
	// exited 3
}

// Run a shell job under a profile from a policy file, through the
// embedding API: one call starts the job, carries out the timeline (here a
// timeout of 200 ms cancels it: SIGTERM, which the job obeys), runs the
// finalisation and cleans up. The job's output goes to any io.Writer.
func ExampleRun() {
	prof, err := policies.Find("testdata/example.hcl", "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	var out strings.Builder
	res, err := process.Run(context.Background(), prof,
		[]string{"/bin/sh", "-c", "echo working; trap 'echo stopping; exit 3' TERM; while :; do sleep 0.01; done"},
		process.RunOptions{
			Stdout:  &out,
			Timeout: 200 * time.Millisecond,
		})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(out.String())
	fmt.Println("outcome:", res.Outcome, "reason:", res.Reason, "status:", res.Status)
	// Output:
	// working
	// stopping
	// finalize: outcome cancelled, status 124
	// outcome: cancelled reason: timeout status: 124
}
