package main

import (
	"errors"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// newExplainCmd is a placeholder until its issue lands; it is replaced whole.
func newExplainCmd(v *viper.Viper) *cobra.Command {
	_ = v
	return &cobra.Command{
		Use:    "explain",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return withStatus(exitInternal, errors.New("explain: not implemented yet"))
		},
	}
}
