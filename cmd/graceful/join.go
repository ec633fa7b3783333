package main

import (
	"errors"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// newJoinCmd is a placeholder until its issue lands; it is replaced whole.
func newJoinCmd(v *viper.Viper) *cobra.Command {
	_ = v
	return &cobra.Command{
		Use:    "join",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return withStatus(exitInternal, errors.New("join: not implemented yet"))
		},
	}
}
