package process_test

import (
	"context"
	"fmt"
	"time"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/process"
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
