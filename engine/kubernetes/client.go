//go:build linux

package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/kubernetes/internal/wire"
)

// ClientConfig configures a join client.
type ClientConfig struct {
	// Socket is the coordinator's socket path.
	Socket string
	// Token is the shared secret. When empty, it is read from TokenFile,
	// which is waited for (the coordinator creates it when it starts)
	// within StartTimeout.
	Token     string
	TokenFile string
	// Name is the container's name; empty lets the coordinator name it
	// (only when it was started with a count rather than names).
	Name string
	// StartTimeout bounds the wait for the socket to appear and accept.
	// Zero means DefaultStartTimeout.
	StartTimeout time.Duration
	// Misses is the number of the coordinator's ping intervals without a
	// frame after which the coordinator is considered gone. Zero means
	// DefaultMisses.
	Misses int
	// PeerUIDs lists uids other than our own that the coordinator may run
	// as; a negative entry allows any uid.
	PeerUIDs []int
	// Logf, when set, is told once when Join starts waiting for the
	// token file or the socket.
	Logf func(format string, args ...any)
}

// ErrFinished is returned by Join when the coordinator has already
// finished (its done marker is beside the socket): the container's turn
// will never come.
var ErrFinished = errors.New("coordinator has finished")

// ErrRefused wraps the coordinator's error reply to hello.
var ErrRefused = errors.New("coordinator refused the connection")

// Session is a join client's authenticated connection to the coordinator.
type Session struct {
	// Name is the container's name as the coordinator knows it.
	Name string

	p           *peer
	turn        chan wire.Message // start or skip
	ack         chan struct{}
	interrupted chan struct{}
	gone        chan struct{}

	receipt atomic.Pointer[[]byte] // SetReceipt

	mu       sync.Mutex
	reason   string // of the interrupt, skip, or end of connection
	once     sync.Once
	exitSent atomic.Bool // ReportExit has queued the exit report
}

// Join connects to the coordinator, retrying while the socket does not
// exist or does not accept yet (the coordinator container may start later
// than this one), and authenticates both ends. The token is never sent;
// nothing but a nonce and the name is sent before the coordinator has
// proved it knows the token.
func Join(ctx context.Context, cfg ClientConfig) (*Session, error) {
	if err := checkSocketPath(cfg.Socket); err != nil {
		return nil, err
	}
	if cfg.Token == "" && cfg.TokenFile == "" {
		return nil, errors.New("no token: set " + TokenEnv + " or give a token file")
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.Misses <= 0 {
		cfg.Misses = DefaultMisses
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	// One start timeout for the token file and the socket together.
	ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	if cfg.Token == "" {
		tok, err := waitToken(ctx, cfg.TokenFile, cfg.Socket, cfg.StartTimeout, cfg.Logf)
		if err != nil {
			return nil, err
		}
		cfg.Token = tok
	}
	nc, err := dialRetry(ctx, cfg.Socket, cfg.StartTimeout, cfg.Logf)
	if err != nil {
		return nil, err
	}
	cred, err := peerCred(nc)
	if err != nil || !uidAllowed(cred.Uid, cfg.PeerUIDs) {
		nc.Close()
		if err == nil {
			err = fmt.Errorf("coordinator runs as uid %d, not allowed (see --peer-uid)", cred.Uid)
		}
		return nil, fmt.Errorf("%s: %w", cfg.Socket, err)
	}
	_ = nc.SetDeadline(time.Now().Add(helloTimeout))
	p := newPeer(nc, DefaultInterval, DefaultInterval*time.Duration(cfg.Misses))
	m, err := handshake(nc, p, cfg.Token, cfg.Name)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("%s: %w", cfg.Socket, err)
	}
	_ = nc.SetDeadline(time.Time{})
	if m.IntervalMS > 0 {
		p.interval = time.Duration(m.IntervalMS) * time.Millisecond
		p.lostAfter = p.interval * time.Duration(cfg.Misses)
	}
	s := &Session{
		Name:        m.Name,
		p:           p,
		turn:        make(chan wire.Message, 1),
		ack:         make(chan struct{}, 1),
		interrupted: make(chan struct{}),
		gone:        make(chan struct{}),
	}
	p.start()
	go s.readLoop()
	return s, nil
}

// ErrImpostor is returned by Join when whoever listens at the socket path
// could not prove that it knows our token: either its token differs from
// ours or it is not the coordinator. It has learnt nothing secret.
var ErrImpostor = errors.New("authentication failed: the listener did not prove it knows our token (a different token, or not the coordinator); nothing secret was sent")

// handshake authenticates both ends (see wire.Version) and returns the
// coordinator's welcome. The token itself is never sent, and join's proof
// only after the coordinator has proved it knows the token: a listener
// that does not learns a nonce and the container's name.
func handshake(nc *net.UnixConn, p *peer, token, name string) (wire.Message, error) {
	nonce := wire.NewNonce()
	if err := wire.WriteMessage(nc, wire.Message{Type: wire.TypeHello, Name: name, Version: wire.Version, Nonce: nonce}); err != nil {
		return wire.Message{}, fmt.Errorf("sending hello: %w", err)
	}
	m, err := wire.ReadMessage(p.rd)
	if err != nil {
		return wire.Message{}, fmt.Errorf("waiting for the coordinator's challenge: %w", err)
	}
	switch m.Type {
	case wire.TypeChallenge:
	case wire.TypeError:
		return wire.Message{}, fmt.Errorf("%w: %s", ErrRefused, m.Error)
	default:
		return wire.Message{}, fmt.Errorf("expected the coordinator's challenge, got %s", m.Type)
	}
	if m.Version != wire.Version {
		return wire.Message{}, fmt.Errorf("coordinator speaks protocol version %d, not %d: run the same graceful in every container", m.Version, wire.Version)
	}
	if !wire.ProofEqual(m.Proof, wire.CoordinatorProof(token, nonce, m.Nonce, name)) {
		// Said, so that a real coordinator with another token logs it.
		_ = wire.WriteMessage(nc, wire.Message{Type: wire.TypeError, Error: "authentication failed: your proof does not match my token"})
		return wire.Message{}, ErrImpostor
	}
	if err := wire.WriteMessage(nc, wire.Message{Type: wire.TypeAuth, Proof: wire.JoinProof(token, nonce, m.Nonce, name)}); err != nil {
		return wire.Message{}, fmt.Errorf("sending auth: %w", err)
	}
	if m, err = wire.ReadMessage(p.rd); err != nil {
		return wire.Message{}, fmt.Errorf("waiting for the coordinator's welcome: %w", err)
	}
	switch m.Type {
	case wire.TypeWelcome:
		return m, nil
	case wire.TypeError:
		return wire.Message{}, fmt.Errorf("%w: %s", ErrRefused, m.Error)
	}
	return wire.Message{}, fmt.Errorf("expected the coordinator's welcome, got %s", m.Type)
}

// ErrStartTimeout is returned by Join when the token file or the
// coordinator's socket did not appear within the start timeout.
var ErrStartTimeout = errors.New("start timeout")

// waitToken waits for the token file, as the coordinator creates it when
// it starts.
func waitToken(ctx context.Context, file, socket string, timeout time.Duration, logf func(string, ...any)) (string, error) {
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, 250*time.Millisecond) {
		tok, err := ReadToken(file)
		if err == nil || !errors.Is(err, os.ErrNotExist) {
			return tok, err
		}
		if delay == 20*time.Millisecond {
			logf("waiting for the token file %s (up to %v)", file, timeout)
		}
		if _, serr := os.Lstat(socket + DoneSuffix); serr == nil {
			return "", fmt.Errorf("%s: %w", socket, ErrFinished)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", startTimeoutError(ctx, fmt.Sprintf("no token: %s did not appear within %v and %s is not set (--start-timeout)", file, timeout, TokenEnv))
		case <-t.C:
		}
	}
}

// timeoutError is text alone, one clear line, and matches ErrStartTimeout.
type timeoutError struct{ text string }

func (e timeoutError) Error() string        { return e.text }
func (e timeoutError) Is(target error) bool { return target == ErrStartTimeout }

func startTimeoutError(ctx context.Context, text string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return timeoutError{text}
	}
	return fmt.Errorf("%s: %w", text, ctx.Err())
}

func dialRetry(ctx context.Context, path string, timeout time.Duration, logf func(string, ...any)) (*net.UnixConn, error) {
	delay := 20 * time.Millisecond
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "unix", path)
		if err == nil {
			return c.(*net.UnixConn), nil
		}
		// Not there yet, or a stale socket the coordinator is about to
		// replace: wait. Anything else will not get better.
		if _, serr := os.Lstat(path + DoneSuffix); serr == nil {
			return nil, fmt.Errorf("%s: %w", path, ErrFinished)
		}
		if ctx.Err() != nil {
			return nil, startTimeoutError(ctx, fmt.Sprintf("no coordinator at %s within %v (--start-timeout)", path, timeout))
		}
		if !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("connecting to %s: %w", path, err)
		}
		if delay == 20*time.Millisecond {
			logf("waiting for the coordinator at %s (up to %v)", path, timeout)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, startTimeoutError(ctx, fmt.Sprintf("no coordinator at %s within %v (--start-timeout)", path, timeout))
		case <-t.C:
		}
		delay = min(2*delay, 250*time.Millisecond)
	}
}

func (s *Session) setReason(r string) {
	s.mu.Lock()
	if s.reason == "" {
		s.reason = r
	}
	s.mu.Unlock()
}

// Reason says why the session was interrupted, skipped or ended.
func (s *Session) Reason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

func (s *Session) interrupt(reason string) {
	s.once.Do(func() {
		s.setReason(reason)
		close(s.interrupted)
	})
}

// readLoop runs on its own goroutine for the whole session: it answers
// pings and hands over start, skip, interrupt and ack, whatever the job is
// doing.
func (s *Session) readLoop() {
	defer close(s.gone)
	for {
		m, err := s.p.read()
		if err != nil {
			if errors.Is(err, wire.ErrMalformed) || errors.Is(err, wire.ErrFrameTooLarge) {
				s.p.sendClose(wire.Message{Type: wire.TypeError, Error: wire.ErrorText(err)})
			} else {
				s.p.close(err)
			}
			if errors.Is(err, io.EOF) {
				err = errors.New("coordinator closed the connection")
			}
			s.setReason(wire.ErrorText(err))
			return
		}
		switch m.Type {
		case wire.TypePing:
			s.p.send(wire.Message{Type: wire.TypePong, Seq: m.Seq})
		case wire.TypePong:
		case wire.TypeStart, wire.TypeSkip:
			select {
			case s.turn <- m:
			default: // a second start or skip: ignore, the first one counts
			}
		case wire.TypeInterrupt:
			s.interrupt("coordinator: " + m.Reason)
		case wire.TypeBye:
			// The coordinator stops waiting (abandon) or exits: the job
			// must not outlive it.
			s.interrupt("coordinator said bye: " + m.Reason)
		case wire.TypeAck:
			if !s.exitSent.Load() {
				// An ack of a report never sent would be taken for the
				// real one later: out of order, like a client's start.
				text := "unexpected ack before the exit report"
				s.p.sendClose(wire.Message{Type: wire.TypeError, Error: text})
				s.setReason(text)
				return
			}
			select {
			case s.ack <- struct{}{}:
			default:
			}
		case wire.TypeError:
			s.setReason("coordinator error: " + m.Error)
			s.p.close(errors.New(m.Error))
			return
		default:
			text := "unexpected " + m.Type
			s.p.sendClose(wire.Message{Type: wire.TypeError, Error: text})
			s.setReason(text)
			return
		}
	}
}

// WaitTurn blocks until the coordinator says start (true) or skip (false,
// with Reason), or the connection ends (error).
func (s *Session) WaitTurn(ctx context.Context) (bool, error) {
	select {
	case m := <-s.turn:
		if m.Type == wire.TypeSkip {
			s.setReason(m.Reason)
			return false, nil
		}
		return true, nil
	case <-s.gone:
		return false, fmt.Errorf("coordinator gone before our turn: %s", s.Reason())
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// Interrupted is closed when the coordinator says interrupt (or bye).
func (s *Session) Interrupted() <-chan struct{} { return s.interrupted }

// Gone is closed when the connection has ended: the coordinator hung up,
// went silent past the liveness window, or Close was called.
func (s *Session) Gone() <-chan struct{} { return s.gone }

// LogWriter returns a writer that streams to the coordinator as stream
// ("stdout" or "stderr"). It never fails: once the coordinator is gone the
// output is dropped here (the caller also writes it locally). It applies
// back-pressure while the socket is full.
func (s *Session) LogWriter(stream string) io.Writer { return logWriter{s, stream} }

type logWriter struct {
	s      *Session
	stream string
}

func (w logWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		chunk := b[:min(len(b), wire.MaxLogChunk)]
		b = b[len(chunk):]
		// The writer goroutine encodes later; the caller may reuse b.
		if w.s.p.sendData(wire.Message{Type: wire.TypeLog, Stream: w.stream, Data: append([]byte(nil), chunk...)}, false, nil) != nil {
			break
		}
	}
	return n, nil
}

// SetReceipt attaches the job's termination receipt (JSON) to the exit
// report; one over wire.MaxReceipt is left out.
func (s *Session) SetReceipt(b []byte) { s.receipt.Store(&b) }

// ReportExit sends the job's end, after all output written before it, and
// waits for the coordinator's acknowledgement.
func (s *Session) ReportExit(ctx context.Context, e engine.Exit) error {
	m := wire.Message{Type: wire.TypeExit, Code: e.Code, Signal: wire.Text(e.Signal), SignalNumber: e.SignalNumber, Abandoned: e.Abandoned}
	if m.Code < 0 || m.Code > 255 {
		m.Code = 255
	}
	if e.Err != nil {
		m.Error = wire.ErrorText(e.Err)
	}
	if r := s.receipt.Load(); r != nil && len(*r) <= wire.MaxReceipt {
		m.Receipt = *r
	}
	s.exitSent.Store(true)
	if err := s.p.sendData(m, false, ctx.Done()); err != nil {
		return fmt.Errorf("reporting exit: %w", err)
	}
	select {
	case <-s.ack:
		return nil
	case <-s.gone:
		return fmt.Errorf("exit report not acknowledged: %s", s.Reason())
	case <-ctx.Done():
		return fmt.Errorf("exit report not acknowledged: %w", ctx.Err())
	}
}

// ReportTerminating tells the coordinator that the kubelet signalled this
// container (sig, "SIGTERM"), so that it starts cancellation: with native
// sidecars it gets no signal of its own until the job containers exit. It
// does not wait; the frame goes out behind any queued output.
func (s *Session) ReportTerminating(sig string) error {
	return s.p.sendData(wire.Message{Type: wire.TypeTerminating, Signal: sig}, false, nil)
}

// Close says bye (waiting at most a second for it to go out behind any
// queued output) and hangs up.
func (s *Session) Close() {
	stop := make(chan struct{})
	t := time.AfterFunc(time.Second, func() { close(stop) })
	_ = s.p.sendData(wire.Message{Type: wire.TypeBye}, true, stop)
	t.Stop()
	s.p.close(nil)
	<-s.gone
}
