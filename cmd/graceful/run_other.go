//go:build !linux

package main

import (
	"errors"
	"runtime"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// run and join supervise processes with Linux facilities (process groups,
// pidfds, cgroups, a child subreaper). Elsewhere they exist, so that the
// command tree and its help are the same everywhere, and say they need
// Linux with graceful's own usage status. The authoring commands
// (validate, fmt, explain, simulate, profiles, plan) work on every OS.
var errNeedsLinux = errors.New("needs Linux (this is " + runtime.GOOS + "): validate, fmt, explain, simulate and profiles work here")

func newRunCmd(*viper.Viper) *cobra.Command {
	return linuxOnly("run [flags] [--] command [args...]", "Run a command under a cancellation profile (Linux only)")
}

// newRunTree is the whole tree: run has nothing to catch ahead here.
func newRunTree() (*cobra.Command, func()) { return newRootCmd(), func() {} }

func newJoinCmd(*viper.Viper) *cobra.Command {
	return linuxOnly("join --socket PATH [flags] -- command [args...]", "Run a job container's command for a kubernetes coordinator (Linux only)")
}

func linuxOnly(use, short string) *cobra.Command {
	cmd := &cobra.Command{
		Use:                use,
		Short:              short,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStatus(exitInternal, errors.New("graceful "+cmd.Name()+": "+errNeedsLinux.Error()))
		},
	}
	return cmd
}
