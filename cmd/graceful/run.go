package main

import (
	"errors"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// newRunCmd is a placeholder until its issue lands; it is replaced whole.
func newRunCmd(v *viper.Viper) *cobra.Command {
	_ = v
	return &cobra.Command{
		Use:    "run",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return withStatus(exitInternal, errors.New("run: not implemented yet"))
		},
	}
}
