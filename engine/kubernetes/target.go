//go:build linux

package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/kubernetes/internal/wire"
	"github.com/graceful-sh/graceful/engine/process"
)

// The Coordinator is the engine's Target for the job containers.
var _ engine.Target = (*Coordinator)(nil)

// Signal is not supported: the job containers live in other PID namespaces.
func (c *Coordinator) Signal(string, engine.Scope) error { return engine.ErrNotSupported }

// Notify pushes msg ("interrupt") to every running job container at once;
// containers still waiting their turn are told to skip and later ones are
// skipped as they connect.
func (c *Coordinator) Notify(msg string) error {
	if msg != wire.TypeInterrupt {
		return fmt.Errorf("kubernetes runner: unknown notification %q (have: interrupt)", msg)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	acts, ok := c.sched.cancel()
	if !ok {
		return engine.ErrGone
	}
	c.perform(acts)
	return nil
}

// Abandon stops waiting: running job containers are told to exit and
// declared abandoned, the others skipped, and Done reports at once.
func (c *Coordinator) Abandon() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.perform(c.sched.abandon())
	return nil
}

// Exec runs argv in the coordinator's container (finalisation, command
// steps) under the process runner, with the coordinator's stdout and
// stderr, and kills its whole tree when ctx ends or it exits. Using the
// process runner keeps every child of the coordinator one that package
// started, so that as its container's PID 1 it can reap orphans
// (process.ReapOrphans) without stealing an exit status.
func (c *Coordinator) Exec(ctx context.Context, argv []string, env []string) error {
	if len(argv) == 0 {
		return errors.New("empty command")
	}
	r, err := process.Start(process.Options{Args: argv, Env: append(jobEnviron(), env...), Cgroup: process.CgroupOff})
	if r == nil {
		return err
	}
	defer r.Close(time.Second)
	var e engine.Exit
	select {
	case e = <-r.Done():
	case <-ctx.Done():
		_ = r.Abandon()
		<-r.Done()
		return ctx.Err()
	}
	switch {
	case e.Err != nil:
		return e.Err
	case e.Signal != "":
		return fmt.Errorf("killed by %s", e.Signal)
	case e.Code != 0:
		return fmt.Errorf("exit status %d", e.Code)
	}
	return nil
}

// Done delivers one Exit when every job container has reached a final
// state: the first failure in start order, else the last container's.
func (c *Coordinator) Done() <-chan engine.Exit { return c.done }
