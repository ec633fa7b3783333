//go:build linux

package kubernetes

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/kubernetes/internal/wire"
)

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
	if cfg.OutputQueue <= 0 {
		cfg.OutputQueue = DefaultOutputQueue
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
		term:      make(chan string, 1),
		sched:     newSchedule(cfg.Jobs, cfg.Count, cfg.Parallel, cfg.StartTimeout),
		conns:     map[*peer]bool{},
		pending:   map[*net.UnixConn]bool{},
		out:       engine.NewOutbox(cfg.Output, cfg.OutputQueue),
	}
	for range c.sched.slots {
		c.slots = append(c.slots, &slot{})
	}
	ln, lock, note, err := listenSocket(cfg.Socket, cfg.PeerUIDs)
	if err != nil {
		return nil, err
	}
	if note != "" {
		cfg.Logf("%s", note)
	}
	c.ln, c.lock = ln, lock
	c.sockInfo, _ = os.Lstat(cfg.Socket)
	c.startTmr = time.AfterFunc(cfg.StartTimeout, c.startTimeout)
	c.wg.Add(1)
	go c.accept()
	return c, nil
}

// startTimeout gives up on the job containers that have not connected.
func (c *Coordinator) startTimeout() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.perform(c.sched.timedOut())
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
	// Bounded: a connection that does not hang up must not keep the
	// coordinator past the pod's grace period.
	waited := make(chan struct{})
	go func() { c.wg.Wait(); close(waited) }()
	wt := time.NewTimer(closeWait)
	select {
	case <-waited:
	case <-wt.C:
		c.cfg.Logf("not waiting any longer for connections still open")
	}
	wt.Stop()
	t.Stop()
	// The job's output still queued goes out if stdout takes it soon;
	// lines dropped because it did not are counted, and said.
	flushed := c.out.Close(closeWait, nil)
	if n := c.out.Lost(); n > 0 || !flushed {
		what := fmt.Sprintf("%d line(s) of job output", n)
		if !flushed {
			what += ", and what was still queued,"
		}
		c.cfg.Logf("%s lost: the coordinator's stdout was not being read (each job container's own log has them)", what)
	}
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

// serve runs one connection: peer credentials, then the handshake (hello,
// challenge, auth: see wire.Version), then the job container's messages
// (admit). Nothing about the job is sent before join has proved it knows
// the token.
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

	// 2. The handshake, within one short window: hello with join's
	// nonce, our challenge proving we know the token, join's auth proving
	// it does. Read unbuffered, so nothing past these frames is consumed
	// before the peer (and its buffer) exists, and with a small frame
	// limit.
	_ = nc.SetDeadline(time.Now().Add(helloTimeout))
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
	case hello.Version != wire.Version:
		c.cfg.Logf("refused connection from %s: protocol version %d", who, hello.Version)
		refuse(nc, fmt.Sprintf("protocol version %d not supported (want %d): run the same graceful in every container", hello.Version, wire.Version))
		return
	}
	nonce := wire.NewNonce()
	challenge := wire.Message{Type: wire.TypeChallenge, Version: wire.Version, Nonce: nonce,
		Proof: wire.CoordinatorProof(c.cfg.Token, hello.Nonce, nonce, hello.Name)}
	if err := wire.WriteMessage(nc, challenge); err != nil {
		c.cfg.Logf("refused connection from %s: sending the challenge: %v", who, err)
		nc.Close()
		return
	}
	auth, err := wire.ReadHello(nc)
	switch {
	case err != nil:
		c.cfg.Logf("refused connection from %s: %v", who, err)
		refuse(nc, "expected auth: "+wire.ErrorText(err))
		return
	case auth.Type == wire.TypeError:
		c.cfg.Logf("refused connection from %s: wrong token (join did not accept our proof: %s)", who, auth.Error)
		nc.Close()
		return
	case auth.Type != wire.TypeAuth:
		c.cfg.Logf("refused connection from %s: %s instead of auth", who, auth.Type)
		refuse(nc, "expected auth, got "+auth.Type)
		return
	case !wire.ProofEqual(auth.Proof, wire.JoinProof(c.cfg.Token, hello.Nonce, nonce, hello.Name)):
		c.cfg.Logf("refused connection from %s: wrong token", who)
		refuse(nc, "authentication failed")
		return
	}
	_ = nc.SetDeadline(time.Time{})
	c.admit(nc, hello, who)
}
