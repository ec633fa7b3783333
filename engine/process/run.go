//go:build linux

package process

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/supervise"
)

// RunOptions are Run's settings besides the profile and the command.
type RunOptions struct {
	// Env is the job's environment; nil means this process's.
	Env []string
	// Dir is the job's working directory; empty means this process's.
	Dir string
	// Stdin is handed to the job as it is; nil means this process's.
	Stdin *os.File
	// Stdout and Stderr receive the job's output. An *os.File is handed
	// to the job as it is (nothing copied or buffered); any other writer
	// gets the job's end of a pipe, copied to it until the job and its
	// descendants have closed it (at most CloseTimeout after the run).
	// Nil means this process's own.
	Stdout, Stderr io.Writer
	// Cgroup chooses cgroup or subreaper tracking of the tree.
	Cgroup CgroupMode
	// NoSubreaper: see Options.NoSubreaper.
	NoSubreaper bool
	// ReapOrphans starts the process-wide orphan reaper (see ReapOrphans)
	// so that the job's orphans, reparented here, do not stay zombies.
	// Only for a program whose every child is started by this package:
	// the reaper would steal the status of a child started with os/exec.
	ReapOrphans bool
	// Sinks receive the engine's events; put slow ones behind an
	// engine.Outbox.
	Sinks []engine.Sink
	// Timeout, when positive, starts cancellation (engine.CauseTimeout)
	// this long after the job started.
	Timeout time.Duration
	// Cancel, when set, starts cancellation with the cause it delivers
	// (engine.CauseAPI, say).
	Cancel <-chan string
	// CatchSignals makes this process's own signals (the profile's
	// triggers, as graceful run catches them) drive the run; their
	// previous handling is restored when Run returns. Leave it off in a
	// program that runs many jobs at once.
	CatchSignals bool
	// CloseTimeout bounds the cleanup after the run (default 5 s).
	CloseTimeout time.Duration
}

// Run runs argv under p until the engine is done, cleans up whatever is
// left of the job and returns the engine's Result. A command that cannot be
// started still goes through the engine (finalisation runs; the outcome is
// engine.OutcomeFailedToStart with status 126 or 127). Run returns an error
// only when it could not begin at all. If ctx is done first, the job is
// abandoned (killed) at once.
func Run(ctx context.Context, p *engine.Profile, argv []string, o RunOptions) (engine.Result, error) {
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = 5 * time.Second
	}
	opts := Options{Args: argv, Env: o.Env, Dir: o.Dir, Stdin: o.Stdin, Cgroup: o.Cgroup, NoSubreaper: o.NoSubreaper}
	var (
		copies  sync.WaitGroup
		readers []*os.File // our ends of the output pipes
		writers []*os.File // the job's ends, closed here once it has them
	)
	closeWriters := func() {
		for _, f := range writers {
			f.Close()
		}
		writers = nil
	}
	defer closeWriters()
	for _, out := range []struct {
		w  io.Writer
		to **os.File
	}{{o.Stdout, &opts.Stdout}, {o.Stderr, &opts.Stderr}} {
		if out.w == nil {
			continue
		}
		if f, ok := out.w.(*os.File); ok {
			*out.to = f
			continue
		}
		pr, pw, err := os.Pipe()
		if err != nil {
			for _, f := range readers {
				f.Close()
			}
			return engine.Result{}, err
		}
		*out.to = pw
		readers, writers = append(readers, pr), append(writers, pw)
		w := out.w
		copies.Go(func() { _, _ = io.Copy(w, pr) })
	}
	spec := supervise.Spec{
		Profile: p,
		Sinks:   o.Sinks,
		Timeout: o.Timeout,
		Cancel:  o.Cancel,
		Start: func() (supervise.Job, error) {
			if o.ReapOrphans {
				ReapOrphans()
			}
			r, err := Start(opts)
			if r == nil {
				var se *StartError
				if !errors.As(err, &se) {
					return nil, err
				}
				r = Failed(opts, err)
			}
			// Commands (Exec) still write to the pipes: close our copy
			// of the job's ends only after the run.
			return r.Job(o.CloseTimeout), err
		},
	}
	if o.CatchSignals {
		spec.Signals = supervise.ProfilePlan(p)
	}
	res, err := supervise.Run(ctx, spec)
	closeWriters()
	waitCopies(&copies, o.CloseTimeout, readers)
	return res, err
}

// Job is r as a supervise.Job whose Close waits at most timeout for the
// job to be gone (Runner.Close). run, join and Run supervise a Runner so.
func (r *Runner) Job(timeout time.Duration) supervise.Job { return closer{r, timeout} }

type closer struct {
	*Runner
	timeout time.Duration
}

func (c closer) Close() error { return c.Runner.Close(c.timeout) }

// waitCopies waits at most d for the output copies, then closes our ends
// of the pipes (a descendant that could not be killed may hold the job's
// ends open) and waits for the copies to see that.
func waitCopies(wg *sync.WaitGroup, d time.Duration, readers []*os.File) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	for _, f := range readers {
		f.Close()
	}
	<-done
}
