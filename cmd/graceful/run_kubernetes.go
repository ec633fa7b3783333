package main

import (
	"errors"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/graceful-sh/graceful/engine"
)

// addCoordinatorFlags adds the kubernetes coordinator's flags to run.
// Placeholder until the kubernetes runner lands; replaced whole.
func addCoordinatorFlags(fs *pflag.FlagSet) { _ = fs }

// runCoordinator runs `graceful run` for a profile whose runner is
// kubernetes. Placeholder until the kubernetes runner lands; replaced whole.
func runCoordinator(cmd *cobra.Command, v *viper.Viper, prof *engine.Profile) error {
	_, _, _ = cmd, v, prof
	return withStatus(exitInternal, errors.New("kubernetes runner: not implemented yet"))
}
