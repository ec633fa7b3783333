//go:build linux

package kubernetes

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/kubernetes/internal/wire"
)

// Defaults of Config.
const (
	DefaultStartTimeout = 5 * time.Minute
	helloTimeout        = 5 * time.Second
	// DefaultOutputQueue bounds the job output the coordinator holds for
	// a stdout that is not keeping up.
	DefaultOutputQueue = 4 << 20
)

// ExitSkipped is the status of a job container that was told to skip
// (cancellation or an earlier container's failure), used as the job's
// status when nothing else failed: a cancelled job that never ran.
const ExitSkipped = 122

// DoneSuffix names the marker a coordinator leaves beside its socket
// (PATH + DoneSuffix) when it has finished: join then skips at once
// instead of waiting for the socket until its start timeout.
const DoneSuffix = ".done"

// ErrNeverConnected is the Exit.Err of a job container that did not connect
// within the start timeout.
var ErrNeverConnected = errors.New("job container never connected")

// Config configures a Coordinator.
type Config struct {
	// Socket is the path of the Unix socket on the shared volume.
	Socket string
	// Token is the shared secret every client must present. Required.
	Token string
	// Jobs names the job containers in the order they start. A client
	// must present one of these names.
	Jobs []string
	// Count, when Jobs is empty, is the number of job containers; they
	// take the names they present (or job-N) and start in the order they
	// connect. Zero with no Jobs means one.
	Count int
	// Parallel starts each job container as soon as it connects instead
	// of one after the other.
	Parallel bool
	// StartTimeout is how long after Listen every job container must have
	// connected; later ones are reported never-connected. Zero means
	// DefaultStartTimeout.
	StartTimeout time.Duration
	// Interval is the liveness ping interval and Misses the number of
	// intervals without a frame after which a client is lost. Zero means
	// DefaultInterval and DefaultMisses.
	Interval time.Duration
	Misses   int
	// PeerUIDs lists uids other than the coordinator's own that may
	// connect (SO_PEERCRED); a negative entry allows any uid.
	PeerUIDs []int
	// Output receives the job containers' output, each line prefixed with
	// "[name] ". Nil discards it. It is written behind a queue of
	// OutputQueue bytes (zero: DefaultOutputQueue) that never blocks the
	// reading of a container's frames: when Output stops taking lines
	// (a stdout nobody reads) and the queue is full, lines are dropped and
	// counted, and Close logs how many. A slow Output never delays or
	// changes a container's status.
	Output      io.Writer
	OutputQueue int
	// Logf receives the coordinator's own messages (connections,
	// statuses). Nil discards them.
	Logf func(format string, args ...any)
}

// State is where a job container is.
type State string

// Job container states. The first three are transient; the others are
// final and documented in docs/kubernetes.md.
const (
	StatePending        State = "pending"         // not connected yet
	StateWaiting        State = "waiting"         // connected, waiting its turn
	StateRunning        State = "running"         // told to start
	StateExited         State = "exited"          // exit reported and acknowledged
	StateSkipped        State = "skipped"         // told not to run
	StateLost           State = "lost"            // gone without an exit report
	StateNeverConnected State = "never-connected" // start timeout passed
	StateAbandoned      State = "abandoned"       // still running when abandoned
)

func (s State) final() bool {
	switch s {
	case StatePending, StateWaiting, StateRunning:
		return false
	}
	return true
}

// ContainerStatus is the state of one job container.
type ContainerStatus struct {
	Name  string
	State State
	// Exit is the container's end as the job's status sees it (set for
	// final states).
	Exit engine.Exit
	// Reason explains a skip, a loss or a failure to connect.
	Reason string
}

// Succeeded reports whether the container ran and its job exited 0.
func (s ContainerStatus) Succeeded() bool {
	return s.State == StateExited && s.Exit.Err == nil && !s.Exit.Abandoned && s.Exit.Status() == 0
}

// slot is the coordinator's side of a job container's place in the
// schedule (same index): its connection and its unfinished output lines.
type slot struct {
	name    string // its output's prefix
	receipt []byte // the job's receipt from the exit report, if any
	peer    *peer
	out     [2]lineBuffer // stdout, stderr
}

// Coordinator serves the socket and is the engine.Target for the job
// containers it coordinates. Create it with Listen.
//
// Its files follow its jobs: listen.go serves the socket and authenticates
// whoever connects, container.go handles a job container's connection
// once it has a place, schedule.go decides (pure, without sockets) which
// container starts, is skipped, lost or given up, and target.go holds the
// engine.Target methods.
type Coordinator struct {
	cfg       Config
	lostAfter time.Duration
	ln        *net.UnixListener
	lock      *os.File
	sockInfo  os.FileInfo

	done     chan engine.Exit
	term     chan string // Terminating
	termOnce sync.Once
	outMu    sync.Mutex     // the slots' line buffers
	out      *engine.Outbox // Output, never blocking
	startTmr *time.Timer

	mu      sync.Mutex
	sched   *schedule
	slots   []*slot                // by the schedule's index
	conns   map[*peer]bool         // authenticated connections, with or without a slot
	pending map[*net.UnixConn]bool // accepted, not authenticated yet
	closed  bool
	wg      sync.WaitGroup
}

// Statuses returns the job containers' states in start order.
func (c *Coordinator) Statuses() []ContainerStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]ContainerStatus(nil), c.sched.slots...)
}

// Receipts returns the job containers' receipts (JSON, nil where none came)
// in the order of Statuses.
func (c *Coordinator) Receipts() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([][]byte, len(c.slots))
	for i, s := range c.slots {
		out[i] = s.receipt
	}
	return out
}

// perform carries out the schedule's acts in their order: it tells the
// containers concerned and logs each change. Called with c.mu held.
func (c *Coordinator) perform(acts []act) {
	for _, a := range acts {
		if a.Kind == actDone {
			c.done <- a.Exit
			continue
		}
		st, p := a.Status, c.slots[a.Slot].peer
		switch a.Kind {
		case actStart:
			p.send(wire.Message{Type: wire.TypeStart})
			c.cfg.Logf("container %s: started", st.Name)
			continue
		case actInterrupt:
			p.send(wire.Message{Type: wire.TypeInterrupt, Reason: "cancelled"})
			continue
		case actSkip:
			if p != nil { // connected and waiting its turn
				p.send(wire.Message{Type: wire.TypeSkip, Reason: st.Reason})
			}
		case actAbandon:
			p.send(wire.Message{Type: wire.TypeBye, Reason: "abandoned"})
		}
		// A final state.
		if st.State == StateExited {
			c.cfg.Logf("container %s: %s", st.Name, describeExit(st.Exit))
		} else {
			c.cfg.Logf("container %s: %s (%s)", st.displayName(), st.State, st.Reason)
		}
		if a.Kind == actAck {
			p.send(wire.Message{Type: wire.TypeAck})
		}
	}
}

func (s ContainerStatus) displayName() string {
	if s.Name == "" {
		return "(not connected)"
	}
	return s.Name
}

func describeExit(e engine.Exit) string {
	switch {
	case e.Err != nil:
		return fmt.Sprintf("failed to start (%v), status %d", e.Err, e.Code)
	case e.Abandoned:
		return fmt.Sprintf("job abandoned by its local timeline, status %d", e.Status())
	case e.Signal != "":
		return fmt.Sprintf("killed by %s, status %d", e.Signal, e.Status())
	default:
		return fmt.Sprintf("exited with status %d", e.Code)
	}
}
