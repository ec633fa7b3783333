package main

import (
	"errors"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// newFmtCmd is a placeholder until its issue lands; it is replaced whole.
func newFmtCmd(v *viper.Viper) *cobra.Command {
	_ = v
	return &cobra.Command{
		Use:    "fmt",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return withStatus(exitInternal, errors.New("fmt: not implemented yet"))
		},
	}
}
