package engine

import "time"

// Profile is one decoded cancellation policy: what incoming signals mean and
// the timeline carried out once cancellation starts. Package policies builds
// it from HCL; the engine interprets it without knowing where it came from.
//
// A Profile is plain data. The engine never modifies one, so a single Profile
// may be shared by any number of concurrent engines.
type Profile struct {
	// Name is the profile's label, e.g. "process".
	Name string
	// Description is free text for explain and profiles listings.
	Description string
	// Runner is the runner kind: RunnerProcess, RunnerKubernetes or
	// RunnerContainer.
	Runner string
	// Budget is the total time the surrounding system grants for stopping
	// (a pod's terminationGracePeriodSeconds). Zero means no budget.
	Budget time.Duration

	// Triggers maps an incoming signal name ("SIGINT") to the action taken
	// on its 1st, 2nd, ... delivery. Deliveries past the end of the list
	// repeat the last action. A signal with no entry is ignored.
	Triggers map[string][]Action

	// Steps is the cancellation timeline, sorted by At (stable for equal
	// offsets). Offsets are measured from t0, the moment cancellation starts.
	Steps []Step
	// Deadline is the dead-man's switch, measured from t0: whatever is still
	// pending then (job, commands, finalisation) is abandoned and graceful
	// exits. It must be positive.
	Deadline time.Duration

	// Finalize, when non-nil, runs once the job has stopped.
	Finalize *Finalize

	// ExitCodes are graceful's own exit statuses for outcomes that have no
	// job status of their own.
	ExitCodes ExitCodes
}

// Runner kinds.
const (
	RunnerProcess    = "process"
	RunnerKubernetes = "kubernetes"
	RunnerContainer  = "container"
)

// Action is what an incoming signal means on a given delivery.
type Action string

// Trigger actions.
const (
	// ActionDrain lets the job finish on its own; graceful exits after it.
	ActionDrain Action = "drain"
	// ActionCancel starts the cancellation timeline (t0).
	ActionCancel Action = "cancel"
	// ActionExit abandons everything at once: kill what can be killed, exit.
	ActionExit Action = "exit"
	// ActionIgnore does nothing (the delivery is still logged and counted).
	ActionIgnore Action = "ignore"
	// ActionForward passes the same signal to the job's process group.
	ActionForward Action = "forward"
)

// Actions lists every valid Action, for validation and suggestions.
var Actions = []Action{ActionDrain, ActionCancel, ActionExit, ActionIgnore, ActionForward}

// StepKind says what a Step does.
type StepKind string

// Step kinds.
const (
	// StepSignal sends Signal to Scope.
	StepSignal StepKind = "signal"
	// StepCommand runs Command (like systemd's ExecStop or a preStop hook).
	StepCommand StepKind = "command"
	// StepNotify tells the job, over the runner's channel, Notify (e.g.
	// "interrupt"); used where signals cannot reach the job.
	StepNotify StepKind = "notify"
	// StepAbandon stops waiting for the job and treats it as dead, after
	// killing whatever the runner can kill. It is the kubernetes
	// counterpart of SIGKILL.
	StepAbandon StepKind = "abandon"
)

// Scope is who a signal step reaches.
type Scope string

// Signal scopes.
const (
	// ScopeGroup is the job's process group.
	ScopeGroup Scope = "group"
	// ScopeTree is the group plus every descendant that left it (setsid,
	// double fork, daemons).
	ScopeTree Scope = "tree"
	// ScopeLeader is the job's first process only.
	ScopeLeader Scope = "leader"
)

// Step is one point of the cancellation timeline.
type Step struct {
	// Name labels the step and names its state in the machine.
	Name string
	// At is the offset from t0 at which the step runs.
	At time.Duration
	// Kind says which of the fields below apply.
	Kind StepKind

	// Signal is the signal name ("SIGTERM") for StepSignal.
	Signal string
	// Scope is the receiver for StepSignal.
	Scope Scope

	// Command is the argv for StepCommand. It runs asynchronously; the
	// timeline does not wait for it, and it is cut off at Timeout (if
	// positive) or at the deadline.
	Command []string
	// Timeout bounds a StepCommand. Zero means "until the deadline".
	Timeout time.Duration

	// Notify is the message for StepNotify.
	Notify string
}

// Escalates reports whether the step ends the job for good: a SIGKILL or an
// abandon. A timeline without such a step may never terminate the job
// before the deadline.
func (s Step) Escalates() bool {
	return s.Kind == StepAbandon || (s.Kind == StepSignal && s.Signal == "SIGKILL")
}

// Finalize is the work done after the job has stopped (log upload, exit
// report). It always runs inside the deadline when cancellation started,
// and within Timeout otherwise.
type Finalize struct {
	// Command is the argv to run. Its environment carries the outcome
	// (see the runner's documentation for the variable names).
	Command []string
	// Timeout bounds finalisation when the job ended without cancellation
	// (there is no t0 and so no deadline). Zero means no bound.
	Timeout time.Duration
}

// ExitCodes are graceful's exit statuses for outcomes where the job's own
// status is unknown or must be overridden. A zero field takes the default
// from DefaultExitCodes.
type ExitCodes struct {
	// Abandoned: the job could not be confirmed stopped by the deadline,
	// or was abandoned by an abandon step or an exit action.
	Abandoned int
	// Timeout: cancellation was started by --timeout and the job then
	// stopped (coreutils timeout uses 124). -1 keeps the job's own status,
	// like timeout --preserve-status.
	Timeout int
}

// DefaultExitCodes are the exit statuses used when a profile sets none.
var DefaultExitCodes = ExitCodes{Abandoned: 123, Timeout: 124}

// Exit codes graceful itself uses outside any profile. They match the shell
// and coreutils conventions so scripts can tell them apart from the job's.
const (
	// ExitUsage: bad flags or arguments.
	ExitUsage = 2
	// ExitInternal: graceful failed before or apart from the job (e.g. a
	// policy that does not load, a runner that cannot start).
	ExitInternal = 125
	// ExitNotExecutable: the command exists but cannot be executed.
	ExitNotExecutable = 126
	// ExitNotFound: the command was not found.
	ExitNotFound = 127
)
