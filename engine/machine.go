package engine

import (
	"context"
	"fmt"
)

// machine is a placeholder until the interpreter lands; it is replaced whole.
type machine struct{}

func newMachine(Config) (*machine, error) {
	return nil, fmt.Errorf("%w: interpreter not implemented yet", ErrConfig)
}
func (m *machine) deliver(string)             {}
func (m *machine) cancel(string)              {}
func (m *machine) run(context.Context) Result { return Result{} }
