package engine

import (
	"strconv"
	"strings"
	"time"
)

// This file is the core's bookkeeping of commands: command steps and the
// finalisation. The core decides when one starts and when it is cut off;
// the driver runs it (driver.go) and its end comes back as an input.

// SimulatedExec is implemented by simulated targets. Under a VirtualClock
// the engine asks it how long a command would run and how it would end,
// instead of calling Exec, so commands take virtual time. Targets without
// it have Exec called as usual, and its run counts as taking no virtual
// time.
type SimulatedExec interface {
	SimulateExec(argv, env []string) (time.Duration, error)
}

// commands are the machine's commands, by id (their index in list).
type commands struct {
	list []execRun
	// done receives each command's end. It has room for every command the
	// profile can start, so a send never blocks, even after Run returned.
	done    chan execResult
	running int // Exec calls still running on goroutines
}

type execResult struct {
	id   int
	err  error
	real bool // ran Target.Exec on a goroutine
}

// execRun is a command step or the finalisation, started by the core.
type execRun struct {
	label    string // "exec ./upload.sh"
	cause    string // "step hook" or "finalize"
	finalize bool
	cancel   func()
	timeout  time.Duration
	cutAt    time.Time // zero: only the deadline or the end cut it
	cutWhy   string
	running  bool
}

// startExec runs argv for a command step (step >= 0) or the finalisation.
func (m *machine) startExec(now time.Time, argv []string, cause string, finalize bool, timeout time.Duration, step int) {
	id := len(m.cmds.list)
	m.cmds.list = append(m.cmds.list, execRun{label: "exec " + strings.Join(argv, " "), cause: cause, finalize: finalize, timeout: timeout, running: true})
	if timeout > 0 {
		m.cmds.list[id].cutAt = now.Add(timeout)
	}
	m.flush() // the receipt the command's environment names is written
	m.cmds.list[id].cancel = m.drv.exec(m, id, argv, m.outcomeEnv(now, step))
}

// cutCommand cuts off command i, which ran past its timeout.
func (m *machine) cutCommand(i int) {
	e := &m.cmds.list[i]
	e.cutWhy = "cut off after " + e.timeout.String()
	e.cutAt = time.Time{}
	e.cancel()
}

// execDone records a command's end.
func (m *machine) execDone(now time.Time, r execResult) {
	if r.real {
		m.cmds.running--
	}
	e := &m.cmds.list[r.id]
	if !e.running {
		return
	}
	e.running = false
	if m.finished() {
		return
	}
	res := result(r.err)
	if e.cutWhy != "" {
		res = e.cutWhy
	}
	ev := what{cause: e.cause + " finished", action: e.label, target: "command", result: res}
	if !e.finalize {
		m.note(now, ev)
		return
	}
	m.finalizeAt = time.Time{}
	ev.target = "finalize"
	if r.err != nil {
		m.res.FinalizeErr = r.err
	}
	m.finish(now, EventFinalized, ev)
}

// outcomeEnv is the environment of commands: Config.Env, then the outcome.
func (m *machine) outcomeEnv(now time.Time, step int) []string {
	outcome, status, code, sig := "pending", "", "", ""
	if m.decided() {
		outcome, status = string(m.res.Outcome), strconv.Itoa(m.res.Status)
		x := m.res.Exit
		switch {
		case x.Signal != "":
			sig = x.Signal
		case !x.Abandoned && x.Err == nil:
			code = strconv.Itoa(x.Code)
		}
	}
	elapsed := now.Sub(m.start)
	if m.cancelled {
		elapsed = now.Sub(m.t0)
	}
	env := make([]string, 0, len(m.env)+8)
	env = append(env, m.env...)
	env = append(env,
		"GRACEFUL_OUTCOME="+outcome,
		"GRACEFUL_EXIT_STATUS="+status,
		"GRACEFUL_EXIT_CODE="+code,
		"GRACEFUL_SIGNAL="+sig,
		"GRACEFUL_REASON="+m.res.Reason,
		"GRACEFUL_ELAPSED_MS="+strconv.FormatInt(elapsed.Milliseconds(), 10),
		"GRACEFUL_PROFILE="+m.prof.Name,
	)
	if step >= 0 {
		env = append(env, "GRACEFUL_STEP="+m.prof.Steps[step].Name)
	}
	return env
}
