package main

import (
	"errors"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// newProfilesCmd is a placeholder until its issue lands; it is replaced whole.
func newProfilesCmd(v *viper.Viper) *cobra.Command {
	_ = v
	return &cobra.Command{
		Use:    "profiles",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return withStatus(exitInternal, errors.New("profiles: not implemented yet"))
		},
	}
}
