package main

import (
	"errors"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/internal/startsignals"
)

// Exit statuses of graceful's own (the job's status passes through).
const (
	exitOK       = 0
	exitFindings = 1 // validate/fmt -check found problems
	exitUsage    = engine.ExitUsage
	exitInternal = engine.ExitInternal
)

// exitError carries an exit status out of a command's RunE.
type exitError struct {
	code  int
	err   error
	quiet bool // already reported to the user
}

func (e *exitError) Error() string {
	if e.err == nil {
		return "exit status " + itoa(e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func asExitError(err error, target **exitError) bool { return errors.As(err, target) }

// withStatus returns an error that makes graceful exit with code, printing
// err (if non-nil).
func withStatus(code int, err error) error { return &exitError{code: code, err: err} }

// silentStatus returns an error that makes graceful exit with code without
// printing anything more.
func silentStatus(code int) error { return &exitError{code: code, quiet: true} }

func itoa(n int) string {
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// commandFor builds the command tree for a command line: the whole tree,
// or for `graceful run` a tree of run alone (newRunTree), which is all
// such a command line can reach, built in a quarter of the time, with
// run's signals already being caught. The function returned is called
// once the command is done.
func commandFor(args []string) (*cobra.Command, func()) {
	if startsignals.IsRun(args) {
		return newRunTree()
	}
	return newRootCmd(), func() {}
}

// newRootCmd builds the whole command tree with one viper instance of its
// own, bound to the flags. run and join complete their flags first from
// the GRACEFUL_* environment and a settings file (config.go): flags >
// environment > file > defaults. Nothing here reads policies; each
// subcommand loads what it needs.
func newRootCmd() *cobra.Command {
	v := viper.New()
	root := newRoot(v)
	runCmd, joinCmd := newRunCmd(v), newJoinCmd(v)
	addConfigFlag(runCmd)
	addConfigFlag(joinCmd)
	// --version prints the line `graceful version` prints. Handled here
	// rather than by cobra (root.Version), so that it has no -v shorthand
	// (-v is verbose) and needs no version template: a template is
	// text/template, whose reflection keeps every exported method of
	// every type in the binary (a fifth of graceful's code, paged in at
	// every start; docs/performance.md).
	root.Flags().Bool("version", false, "print graceful's version and exit")
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if v, _ := cmd.Flags().GetBool("version"); v {
			return printVersion(cmd.OutOrStdout(), false)
		}
		return cmd.Help()
	}

	root.AddCommand(
		runCmd,
		joinCmd,
		newValidateCmd(v),
		newFmtCmd(v),
		newProfilesCmd(v),
		newExplainCmd(v),
		newSimulateCmd(v),
		newPlanCmd(v),
		newVersionCmd(),
		newManCmd(),
		newInstallCmd(),
	)
	registerCompletions(root)
	return root
}

// newRoot is the root command alone, its subcommands bound to v.
func newRoot(v *viper.Viper) *cobra.Command {
	return &cobra.Command{
		Use:           "graceful",
		Short:         "Run jobs under declarative cancellation policies",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return loadConfig(v, cmd)
		},
	}
}

// loadConfig completes the flags of run and join from the environment and
// the settings file (a bad value is their usage error, 125), then binds
// cmd's flags to v. Other commands take their flags only.
func loadConfig(v *viper.Viper, cmd *cobra.Command) error {
	if configurable(cmd) {
		if err := applySettings(cmd, os.LookupEnv); err != nil {
			return withStatus(exitInternal, err)
		}
		forgetSettings()
	}
	if err := v.BindPFlags(cmd.Flags()); err != nil {
		return withStatus(exitUsage, err)
	}
	return nil
}
