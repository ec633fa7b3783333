// Command graceful runs jobs under declarative cancellation policies.
//
// See the README and docs/ for the subcommands; only this file calls os.Exit.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/graceful-sh/graceful/policies"
)

func main() {
	if guard, ok := guardian(os.Args); ok {
		os.Exit(guard())
	}
	os.Exit(run(context.Background(), os.Args[1:]))
}

// run executes the command line and returns the process exit status.
func run(ctx context.Context, args []string) int {
	root, done := commandFor(args)
	defer done()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return exitStatus(err, pipeSafe{os.Stderr})
}

// exitStatus maps an error from a command to an exit status, printing it
// unless the command has already reported it.
func exitStatus(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ec *exitError
	if asExitError(err, &ec) {
		var le *policies.LoadError
		switch {
		case ec.err == nil || ec.quiet:
		case errors.As(ec.err, &le):
			// Diagnostics speak for themselves, as validate prints them.
			fmt.Fprintln(stderr, le.Text)
			notLoaded(stderr, le.Path, le.Errors)
		default:
			fmt.Fprintf(stderr, "graceful: %v\n", ec.err)
		}
		return ec.code
	}
	// cobra's own errors (unknown flag, bad args) are usage errors.
	fmt.Fprintf(stderr, "graceful: %v\nRun 'graceful --help' for usage.\n", err)
	return exitUsage
}
