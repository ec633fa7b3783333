package policies_test

import (
	"fmt"

	"github.com/graceful-sh/graceful/policies"
)

// Find is what run, explain and simulate call: here the default built-in.
func ExampleFind() {
	p, err := policies.Find("", "")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Name, p.Runner, p.Deadline)
	for _, s := range p.Steps {
		fmt.Println(s.At, s.Signal, s.Scope)
	}
	// Output:
	// process process 10s
	// 0s SIGTERM group
	// 9s SIGKILL tree
}

// Loading in-memory sources, with a fixed environment for env().
func ExampleLoadSources() {
	src := []byte(`
locals {
  grace = seconds(env("GRACE_SECONDS", 20))
}

profile "ci" {
  extends = "process"
  cancel {
    step "kill" {
      at     = local.grace
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = duration_add(local.grace, "5s")
  }
}
`)
	env := map[string]string{"GRACE_SECONDS": "30"}
	pol, diags := policies.LoadSources(
		[]policies.Source{{Name: "ci.hcl", Src: src}},
		policies.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }},
	)
	if diags.HasErrors() {
		fmt.Print(pol.RenderDiagnostics(diags, 0, false))
		return
	}
	p, _ := pol.Profile("ci")
	fmt.Println(p.Steps[1].Name, p.Steps[1].At, p.Deadline)
	// Output:
	// kill 30s 35s
}

// A mistake is a diagnostic with the file, line, column and a snippet.
func ExamplePolicy_RenderDiagnostics() {
	src := []byte(`profile "x" {
  on "SIGTERM" { actions = ["cancle"] }
}
`)
	pol, diags := policies.LoadSources([]policies.Source{{Name: "x.hcl", Src: src}}, policies.Options{})
	fmt.Print(pol.RenderDiagnostics(diags, 0, false))
	// Output:
	// Error: Unknown action
	//
	//   on x.hcl:2:29, in profile "x":
	//    2:   on "SIGTERM" { actions = ["cancle"] }
	//
	// "cancle" is not an action; use drain, cancel, exit, ignore or forward. Did you mean "cancel"?
	//
}
