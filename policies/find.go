package policies

import (
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/graceful-sh/graceful/engine"
)

// Find returns the named profile, the one call run, explain and simulate
// use. policyPath "" means the built-ins only; otherwise it is a file or a
// directory, loaded together with the built-ins (so a file may extend
// "process"). name "" means the only profile the loaded files define, or
// DefaultProfile when they define none or several. The error's text is the
// rendered diagnostics (file:line:col and a snippet) or "no profile named X
// (have: a, b)".
func Find(policyPath, name string) (*engine.Profile, error) {
	if policyPath == "" {
		if name == "" {
			name = DefaultProfile
		}
		// The compiled copy: no HCL parse on the start-up path of run.
		if ep, ok := compiledBuiltins()[name]; ok {
			return ep, nil
		}
	}
	var paths []string
	if policyPath != "" {
		paths = []string{policyPath}
	}
	pol, diags := Load(paths, Options{})
	if diags.HasErrors() {
		errs := errorsOnly(diags)
		return nil, &LoadError{Path: policyPath, Errors: len(errs),
			Text: strings.TrimRight(pol.RenderDiagnostics(errs, 0, false), "\n")}
	}
	return pol.Select(name)
}

func errorsOnly(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	return out
}

// LoadError is Find's error for a policy that does not load: its rendered
// error diagnostics (file:line:col and a snippet). Commands print Text as it
// is, without a "graceful:" prefix in front of "Error:".
type LoadError struct {
	Path   string // the policy file or directory given
	Errors int    // how many error diagnostics Text holds
	Text   string
}

func (e *LoadError) Error() string { return e.Text }
