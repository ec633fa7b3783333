package main

import (
	"errors"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/graceful-sh/graceful/engine"
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

// newRootCmd builds the whole command tree with one viper instance of its
// own: flags > GRACEFUL_* environment > graceful.yaml > defaults. Nothing
// here reads files or policies; each subcommand loads what it needs.
func newRootCmd() *cobra.Command {
	v := viper.New()
	v.SetEnvPrefix("GRACEFUL")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()

	root := &cobra.Command{
		Use:           "graceful",
		Short:         "Run jobs under declarative cancellation policies",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return loadConfig(v, cmd)
		},
	}
	root.PersistentFlags().String("config", "", "config file (default: ./graceful.yaml if present)")

	root.AddCommand(
		newRunCmd(v),
		newJoinCmd(v),
		newValidateCmd(v),
		newFmtCmd(v),
		newProfilesCmd(v),
		newExplainCmd(v),
		newSimulateCmd(v),
		newPlanCmd(v),
		newVersionCmd(),
		newManCmd(),
	)
	registerCompletions(root)
	return root
}

// loadConfig binds the command's flags to v and reads the optional config
// file. Only an explicitly named file that is missing is an error.
func loadConfig(v *viper.Viper, cmd *cobra.Command) error {
	if err := v.BindPFlags(cmd.Flags()); err != nil {
		return withStatus(exitUsage, err)
	}
	name, _ := cmd.Flags().GetString("config")
	if name == "" {
		name = v.GetString("config")
	}
	if name != "" {
		v.SetConfigFile(name)
		if err := v.ReadInConfig(); err != nil {
			return withStatus(exitUsage, err)
		}
		return nil
	}
	// Only ./graceful.yaml itself: viper's name search would also pick up a
	// file called plain "graceful" (the binary) and try to parse it.
	if _, err := os.Stat("graceful.yaml"); err != nil {
		return nil
	}
	v.SetConfigFile("graceful.yaml")
	if err := v.ReadInConfig(); err != nil {
		return withStatus(exitUsage, err)
	}
	return nil
}
