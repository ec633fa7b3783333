package kubernetes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/kubernetes/internal/wire"
	"github.com/graceful-sh/graceful/engine/process"
)

// Defaults of Config.
const (
	DefaultStartTimeout = 5 * time.Minute
	helloTimeout        = 5 * time.Second
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
	// "[name] ". Nil discards it.
	Output io.Writer
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
	name string // its output's prefix
	peer *peer
	out  [2]lineBuffer // stdout, stderr
}

// Coordinator serves the socket and is the engine.Target for the job
// containers it coordinates. Create it with Listen.
type Coordinator struct {
	cfg       Config
	lostAfter time.Duration
	ln        *net.UnixListener
	lock      *os.File
	sockInfo  os.FileInfo

	done     chan engine.Exit
	outMu    sync.Mutex
	startTmr *time.Timer

	mu      sync.Mutex
	sched   *schedule
	slots   []*slot                // by the schedule's index
	conns   map[*peer]bool         // authenticated connections, with or without a slot
	pending map[*net.UnixConn]bool // accepted, not authenticated yet
	closed  bool
	wg      sync.WaitGroup
}

// Listen creates the socket and starts serving it.
func Listen(cfg Config) (*Coordinator, error) {
	if cfg.Token == "" {
		return nil, errors.New("kubernetes coordinator: no token")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Interval < time.Millisecond || cfg.Interval > wire.MaxInterval {
		return nil, fmt.Errorf("kubernetes coordinator: liveness interval %v out of range 1ms-%v", cfg.Interval, wire.MaxInterval)
	}
	if cfg.Misses <= 0 {
		cfg.Misses = DefaultMisses
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.Output == nil {
		cfg.Output = io.Discard
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	seen := map[string]bool{}
	for _, name := range cfg.Jobs {
		if err := wire.CheckName(name); err != nil || name == "" || seen[name] {
			return nil, fmt.Errorf("kubernetes coordinator: bad or duplicate job container name %q", name)
		}
		seen[name] = true
	}
	c := &Coordinator{
		cfg:       cfg,
		lostAfter: cfg.Interval * time.Duration(cfg.Misses),
		done:      make(chan engine.Exit, 1),
		sched:     newSchedule(cfg.Jobs, cfg.Count, cfg.Parallel, cfg.StartTimeout),
		conns:     map[*peer]bool{},
		pending:   map[*net.UnixConn]bool{},
	}
	for range c.sched.slots {
		c.slots = append(c.slots, &slot{})
	}
	ln, lock, err := listenSocket(cfg.Socket)
	if err != nil {
		return nil, err
	}
	c.ln, c.lock = ln, lock
	c.sockInfo, _ = os.Lstat(cfg.Socket)
	c.startTmr = time.AfterFunc(cfg.StartTimeout, c.startTimeout)
	c.wg.Add(1)
	go c.accept()
	return c, nil
}

// closeWait bounds how long Close waits for the connections' goroutines
// after hanging up on them.
const closeWait = time.Second

// Close stops serving: it closes the listener and every connection, and
// removes the socket file if it is still ours. It waits for the
// coordinator's goroutines.
func (c *Coordinator) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	peers := make([]*peer, 0, len(c.conns))
	for p := range c.conns {
		peers = append(peers, p)
	}
	// Connections still owing their hello have nothing to be told.
	for nc := range c.pending {
		nc.Close()
	}
	c.mu.Unlock()
	c.startTmr.Stop()
	err := c.ln.Close()
	for _, p := range peers {
		p.sendClose(wire.Message{Type: wire.TypeBye, Reason: "coordinator exiting"})
	}
	// Give the bye frames a moment to go out, then hang up for good.
	t := time.AfterFunc(100*time.Millisecond, func() {
		for _, p := range peers {
			p.close(errors.New("coordinator exiting"))
		}
	})
	// Bounded: a goroutine stuck writing a container's output to a stdout
	// nobody reads must not keep the coordinator past the pod's grace
	// period. It dies with the process.
	waited := make(chan struct{})
	go func() { c.wg.Wait(); close(waited) }()
	wt := time.NewTimer(closeWait)
	select {
	case <-waited:
	case <-wt.C:
		c.cfg.Logf("not waiting any longer for connections still writing output")
	}
	wt.Stop()
	t.Stop()
	if fi, serr := os.Lstat(c.cfg.Socket); serr == nil && c.sockInfo != nil && os.SameFile(fi, c.sockInfo) {
		// The marker first, then the socket: a join that finds no socket
		// finds the marker, and skips instead of waiting for a
		// coordinator that will not come back.
		writeDoneMarker(c.cfg.Socket + DoneSuffix)
		os.Remove(c.cfg.Socket)
	}
	c.lock.Close()
	return err
}

// writeDoneMarker creates name through a temporary file renamed into place:
// the shared volume is writable by the job containers, and a symlink left
// at name must be replaced, not followed (the coordinator may run as root,
// and os.WriteFile would truncate whatever the link points to).
func writeDoneMarker(name string) {
	f, err := os.CreateTemp(filepath.Dir(name), ".done")
	if err != nil {
		return
	}
	_, err = f.WriteString("finished\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
	}
}

// Statuses returns the job containers' states in start order.
func (c *Coordinator) Statuses() []ContainerStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]ContainerStatus(nil), c.sched.slots...)
}

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

// startTimeout gives up on the job containers that have not connected.
func (c *Coordinator) startTimeout() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.perform(c.sched.timedOut())
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

func (c *Coordinator) accept() {
	defer c.wg.Done()
	for {
		nc, err := c.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			c.cfg.Logf("accept: %v", err)
			time.Sleep(10 * time.Millisecond) // EMFILE and the like
			continue
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			nc.Close()
			continue
		}
		c.pending[nc] = true
		c.wg.Add(1)
		c.mu.Unlock()
		go func() {
			defer c.wg.Done()
			c.serve(nc)
			c.mu.Lock()
			delete(c.pending, nc)
			c.mu.Unlock()
		}()
	}
}

// refuse answers an unauthenticated connection with an error and hangs up.
func refuse(nc *net.UnixConn, text string) {
	_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
	_ = wire.WriteMessage(nc, wire.Message{Type: wire.TypeError, Error: text})
	nc.Close()
}

// serve runs one connection: peer credentials, then hello and token, then
// the job container's messages. Nothing about the job is sent before the
// token has been checked.
func (c *Coordinator) serve(nc *net.UnixConn) {
	// 1. Who is calling: the kernel's word, not the client's.
	cred, err := peerCred(nc)
	if err != nil {
		c.cfg.Logf("refused connection: peer credentials: %v", err)
		refuse(nc, "peer credentials unavailable")
		return
	}
	who := fmt.Sprintf("pid %d uid %d", cred.Pid, cred.Uid)
	if !uidAllowed(cred.Uid, c.cfg.PeerUIDs) {
		c.cfg.Logf("refused connection from %s: uid not allowed", who)
		refuse(nc, "uid not allowed")
		return
	}

	// 2. hello with the token, within a short window.
	// Read unbuffered, so nothing past the hello is consumed before the
	// peer (and its buffer) exists, and with a small frame limit.
	_ = nc.SetReadDeadline(time.Now().Add(helloTimeout))
	hello, err := wire.ReadHello(nc)
	switch {
	case err != nil:
		c.cfg.Logf("refused connection from %s: %v", who, err)
		refuse(nc, "expected hello: "+wire.ErrorText(err))
		return
	case hello.Type != wire.TypeHello:
		c.cfg.Logf("refused connection from %s: %s before hello", who, hello.Type)
		refuse(nc, "expected hello, got "+hello.Type)
		return
	case !tokenEqual(hello.Token, c.cfg.Token):
		c.cfg.Logf("refused connection from %s: wrong token", who)
		refuse(nc, "authentication failed")
		return
	case hello.Version != wire.Version:
		refuse(nc, fmt.Sprintf("protocol version %d not supported (want %d)", hello.Version, wire.Version))
		return
	}

	// 3. Authenticated: find its place.
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		// Too late for anything but being told not to run.
		_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
		b, _ := wire.AppendFrame(nil, wire.Message{Type: wire.TypeWelcome, Version: wire.Version, IntervalMS: c.cfg.Interval.Milliseconds(), Name: hello.Name})
		b, _ = wire.AppendFrame(b, wire.Message{Type: wire.TypeSkip, Reason: "coordinator finished"})
		_, _ = nc.Write(b)
		nc.Close()
		return
	}
	i, why := c.sched.claim(hello.Name)
	if i < 0 {
		c.mu.Unlock()
		c.cfg.Logf("refused container %q (%s): %s", hello.Name, who, why)
		refuse(nc, why)
		return
	}
	delete(c.pending, nc)
	p := newPeer(nc, c.cfg.Interval, c.lostAfter)
	p.direct = true
	c.conns[p] = true
	p.start()
	p.send(wire.Message{Type: wire.TypeWelcome, Version: wire.Version, IntervalMS: c.cfg.Interval.Milliseconds(), Name: c.sched.slots[i].Name})
	var s *slot
	if acts, ok := c.sched.connected(i); !ok {
		// Skipped or too late: tell it so; it has nothing to report.
		p.send(wire.Message{Type: wire.TypeSkip, Reason: c.sched.slots[i].Reason})
		i = -1
	} else {
		s = c.slots[i]
		s.name, s.peer = c.sched.slots[i].Name, p
		c.cfg.Logf("container %s connected (%s)", s.name, who)
		c.perform(acts)
	}
	c.mu.Unlock()

	// 4. Its messages, until it hangs up.
	lost := c.readLoop(p, i)
	if strings.HasPrefix(lost, protocolError) {
		// An error reply is queued: let the writer send it and hang up.
		t := time.NewTimer(time.Second)
		select {
		case <-p.done:
		case <-t.C:
		}
		t.Stop()
	}
	c.mu.Lock()
	delete(c.conns, p)
	if i >= 0 {
		c.perform(c.sched.lost(i, lost))
	}
	c.mu.Unlock()
	p.close(nil)
	if s != nil {
		c.flushOutput(s) // a lost or abandoned container's last partial lines
	}
}

const protocolError = "protocol error: "

// readLoop handles the frames of the client in slot i (-1: told to skip,
// it has no slot). It returns why the connection ended when the client had
// not finished (the reason it is lost).
func (c *Coordinator) readLoop(p *peer, i int) string {
	for {
		m, err := p.read()
		if err != nil {
			if errors.Is(err, wire.ErrMalformed) || errors.Is(err, wire.ErrFrameTooLarge) {
				p.sendClose(wire.Message{Type: wire.TypeError, Error: wire.ErrorText(err)})
				return protocolError + wire.ErrorText(err)
			}
			if errors.Is(err, io.EOF) {
				return "connection closed without an exit report"
			}
			return wire.ErrorText(err)
		}
		switch m.Type {
		case wire.TypePing:
			p.send(wire.Message{Type: wire.TypePong, Seq: m.Seq})
			continue
		case wire.TypePong:
			continue
		case wire.TypeBye:
			return "said bye without an exit report"
		case wire.TypeError:
			return "client error: " + m.Error
		}
		c.mu.Lock()
		state := StateSkipped
		if i >= 0 {
			state = c.sched.slots[i].State
		}
		switch {
		case m.Type == wire.TypeLog && state == StateRunning:
			c.mu.Unlock()
			c.output(c.slots[i], m.Stream, m.Data)
			continue
		case m.Type == wire.TypeExit && state == StateRunning:
			// The unfinished last lines go out first, and outside c.mu:
			// a slow or stuck stdout must never hold up Notify, Abandon
			// or Close, which the engine calls on its own goroutine.
			c.mu.Unlock()
			c.flushOutput(c.slots[i])
			exit := engine.Exit{Code: m.Code, Signal: m.Signal, SignalNumber: m.SignalNumber, Abandoned: m.Abandoned}
			if m.Error != "" {
				exit.Err = errors.New(m.Error)
			}
			c.mu.Lock()
			acts, ok := c.sched.exited(i, exit)
			if !ok { // abandoned meanwhile
				state = c.sched.slots[i].State
				break
			}
			c.perform(acts)
			c.mu.Unlock()
			continue
		}
		c.mu.Unlock()
		text := fmt.Sprintf("unexpected %s while %s", m.Type, state)
		p.sendClose(wire.Message{Type: wire.TypeError, Error: text})
		return protocolError + text
	}
}

// output writes a log chunk to Output, line by line with the container's
// name in front. Partial lines wait for their end (or the exit report).
func (c *Coordinator) output(s *slot, stream string, data []byte) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	i := 0
	if stream == "stderr" {
		i = 1
	}
	s.out[i].write(c.cfg.Output, s.name, data)
}

func (c *Coordinator) flushOutput(s *slot) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	for i := range s.out {
		s.out[i].flush(c.cfg.Output, s.name)
	}
}

// lineBuffer holds the unfinished last line of a stream. A line longer than
// wire.MaxLogChunk is written in pieces rather than held.
type lineBuffer struct{ partial []byte }

func (b *lineBuffer) write(w io.Writer, name string, data []byte) {
	var out []byte
	for len(data) > 0 {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			b.partial = append(b.partial, data...)
			if len(b.partial) >= wire.MaxLogChunk {
				out = appendLine(out, name, b.partial, true)
				b.partial = b.partial[:0]
			}
			break
		}
		line := data[:nl+1]
		if len(b.partial) > 0 {
			line = append(b.partial, line...)
			b.partial = b.partial[:0]
		}
		out = appendLine(out, name, line, false)
		data = data[nl+1:]
	}
	if len(out) > 0 {
		_, _ = w.Write(out)
	}
}

func (b *lineBuffer) flush(w io.Writer, name string) {
	if len(b.partial) > 0 {
		_, _ = w.Write(appendLine(nil, name, b.partial, true))
		b.partial = b.partial[:0]
	}
}

func appendLine(out []byte, name string, line []byte, addNewline bool) []byte {
	out = append(out, '[')
	out = append(out, name...)
	out = append(out, "] "...)
	out = append(out, line...)
	if addNewline {
		out = append(out, '\n')
	}
	return out
}
