//go:build linux

package kubernetes

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/kubernetes/internal/wire"
)

const testToken = "s3cret"

// syncBuffer is a bytes.Buffer safe for the coordinator's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func shortDir(t testing.TB) string {
	t.Helper()
	// t.TempDir paths can exceed sun_path; /tmp is short.
	dir, err := os.MkdirTemp("/tmp", "gk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func startCoordinator(t *testing.T, cfg Config) (*Coordinator, *syncBuffer) {
	t.Helper()
	if cfg.Socket == "" {
		cfg.Socket = filepath.Join(shortDir(t), "sock")
	}
	if cfg.Token == "" {
		cfg.Token = testToken
	}
	out := &syncBuffer{}
	cfg.Output = out
	cfg.Logf = func(f string, a ...any) { t.Logf("coordinator: "+f, a...) }
	c, err := Listen(cfg)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, out
}

func join(t *testing.T, c *Coordinator, name string) *Session {
	t.Helper()
	s, err := Join(context.Background(), ClientConfig{Socket: c.cfg.Socket, Token: testToken, Name: name, StartTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Join(%s): %v", name, err)
	}
	t.Cleanup(s.Close)
	return s
}

func waitTurn(t *testing.T, s *Session) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ok, err := s.WaitTurn(ctx)
	if err != nil {
		t.Fatalf("WaitTurn(%s): %v", s.Name, err)
	}
	return ok
}

func report(t *testing.T, s *Session, e engine.Exit) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.ReportExit(ctx, e); err != nil {
		t.Fatalf("ReportExit(%s): %v", s.Name, err)
	}
}

func done(t *testing.T, c *Coordinator) engine.Exit {
	t.Helper()
	select {
	case e := <-c.Done():
		return e
	case <-time.After(10 * time.Second):
		t.Fatalf("Done not reported; statuses %+v", c.Statuses())
		return engine.Exit{}
	}
}

// waitState polls the coordinator (real sockets, real goroutines) until
// container name reaches want.
func waitState(t *testing.T, c *Coordinator, name string, want State) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range c.Statuses() {
			if s.Name == name && s.State == want {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("container %s never reached %s: %+v", name, want, c.Statuses())
}

func states(c *Coordinator) map[string]State {
	m := map[string]State{}
	for _, s := range c.Statuses() {
		m[s.Name] = s.State
	}
	return m
}

func TestJobExitsNormally(t *testing.T) {
	c, out := startCoordinator(t, Config{Jobs: []string{"build"}})
	s := join(t, c, "build")
	if !waitTurn(t, s) {
		t.Fatal("told to skip")
	}
	fmt.Fprint(s.LogWriter("stdout"), "hello\nwor")
	fmt.Fprint(s.LogWriter("stderr"), "oops\n")
	fmt.Fprint(s.LogWriter("stdout"), "ld\nunfinished")
	report(t, s, engine.Exit{Code: 0})
	if d := cmp.Diff(engine.Exit{}, done(t, c)); d != "" {
		t.Errorf("Done (-want +got):\n%s", d)
	}
	got := out.String()
	for _, want := range []string{"[build] hello\n", "[build] world\n", "[build] oops\n", "[build] unfinished\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output %q lacks %q", got, want)
		}
	}
}

func TestTwoContainersStartInOrder(t *testing.T) {
	c, _ := startCoordinator(t, Config{Jobs: []string{"first", "second"}})
	second := join(t, c, "second")
	waitState(t, c, "second", StateWaiting)
	first := join(t, c, "first")
	if !waitTurn(t, first) {
		t.Fatal("first told to skip")
	}
	if d := cmp.Diff(map[string]State{"first": StateRunning, "second": StateWaiting}, states(c)); d != "" {
		t.Fatalf("while first runs (-want +got):\n%s", d)
	}
	report(t, first, engine.Exit{})
	if !waitTurn(t, second) {
		t.Fatal("second told to skip")
	}
	report(t, second, engine.Exit{Code: 0})
	done(t, c)
}

func TestFailureSkipsEveryWaitingContainerAtOnce(t *testing.T) {
	c, _ := startCoordinator(t, Config{Jobs: []string{"a", "b", "c", "d"}})
	a, b, cc := join(t, c, "a"), join(t, c, "b"), join(t, c, "c")
	waitState(t, c, "c", StateWaiting)
	waitTurn(t, a)
	report(t, a, engine.Exit{Code: 3})
	for _, s := range []*Session{b, cc} {
		if waitTurn(t, s) {
			t.Errorf("%s started after a failed", s.Name)
		}
		if !strings.Contains(s.Reason(), "container a failed") {
			t.Errorf("%s skip reason %q", s.Name, s.Reason())
		}
	}
	if d := cmp.Diff(engine.Exit{Code: 3}, done(t, c)); d != "" {
		t.Errorf("Done (-want +got):\n%s", d)
	}
	want := map[string]State{"a": StateExited, "b": StateSkipped, "c": StateSkipped, "d": StateSkipped}
	if d := cmp.Diff(want, states(c)); d != "" {
		t.Errorf("states (-want +got):\n%s", d)
	}
	// d connects late and is told to skip too.
	late := join(t, c, "d")
	if waitTurn(t, late) {
		t.Error("late container started")
	}
}

func TestInterruptIsPushedToRunningContainers(t *testing.T) {
	c, _ := startCoordinator(t, Config{Count: 3, Parallel: true})
	var sessions []*Session
	for i := range 3 {
		s := join(t, c, fmt.Sprintf("j%d", i))
		waitTurn(t, s)
		sessions = append(sessions, s)
	}
	if err := c.Notify("interrupt"); err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		select {
		case <-s.Interrupted():
		case <-time.After(5 * time.Second):
			t.Fatalf("%s not interrupted", s.Name)
		}
		report(t, s, engine.Exit{Signal: "SIGTERM", SignalNumber: 15})
	}
	if d := cmp.Diff(engine.Exit{Signal: "SIGTERM", SignalNumber: 15}, done(t, c)); d != "" {
		t.Errorf("Done (-want +got):\n%s", d)
	}
	if err := c.Notify("reboot"); err == nil {
		t.Error("unknown notification accepted")
	}
	if err := c.Signal("SIGTERM", engine.ScopeGroup); !errors.Is(err, engine.ErrNotSupported) {
		t.Errorf("Signal = %v, want ErrNotSupported", err)
	}
}

func TestInterruptSkipsContainersNotStarted(t *testing.T) {
	c, _ := startCoordinator(t, Config{Jobs: []string{"a", "b"}})
	a, b := join(t, c, "a"), join(t, c, "b")
	waitTurn(t, a)
	waitState(t, c, "b", StateWaiting)
	c.Notify("interrupt")
	if waitTurn(t, b) {
		t.Error("b started after the interrupt")
	}
	<-a.Interrupted()
	report(t, a, engine.Exit{Code: 143 - 128, Signal: "SIGTERM", SignalNumber: 15})
	if got := done(t, c); got.Signal != "SIGTERM" {
		t.Errorf("Done = %+v, want a's SIGTERM", got)
	}
}

func TestCancelBeforeAnythingRan(t *testing.T) {
	c, _ := startCoordinator(t, Config{Jobs: []string{"a"}})
	c.Notify("interrupt")
	if d := cmp.Diff(engine.Exit{Code: ExitSkipped}, done(t, c)); d != "" {
		t.Errorf("Done (-want +got):\n%s", d)
	}
}

func TestAbandonTellsRunningContainersToExit(t *testing.T) {
	c, _ := startCoordinator(t, Config{Jobs: []string{"a", "b"}})
	a := join(t, c, "a")
	waitTurn(t, a)
	c.Abandon()
	<-a.Interrupted()
	got := done(t, c)
	if !got.Abandoned {
		t.Errorf("Done = %+v, want abandoned", got)
	}
	want := map[string]State{"a": StateAbandoned, "b": StateSkipped}
	if d := cmp.Diff(want, states(c)); d != "" {
		t.Errorf("states (-want +got):\n%s", d)
	}
}

func TestClientClosingWithoutReportIsLostAtOnce(t *testing.T) {
	c, _ := startCoordinator(t, Config{Jobs: []string{"a"}, Interval: time.Hour})
	a := join(t, c, "a")
	waitTurn(t, a)
	a.p.close(nil) // the container died: its end of the socket closes
	got := done(t, c)
	if !got.Abandoned || got.Status() == 0 {
		t.Errorf("Done = %+v, want a failure", got)
	}
	if st := c.Statuses()[0]; st.State != StateLost {
		t.Errorf("state %s, want lost", st.State)
	}
}

func TestSilentClientIsLost(t *testing.T) {
	c, _ := startCoordinator(t, Config{Jobs: []string{"a"}, Interval: 20 * time.Millisecond, Misses: 3})
	nc := dialRaw(t, c)
	rawHandshake(t, nc, testToken, "a")
	// Read (so the coordinator's writes succeed) but never send anything.
	go func() { _, _ = bytes.NewBuffer(nil).ReadFrom(nc) }()
	got := done(t, c)
	st := c.Statuses()[0]
	if st.State != StateLost || !got.Abandoned || !strings.Contains(st.Reason, "liveness") {
		t.Errorf("status %+v, Done %+v; want lost by liveness", st, got)
	}
}

func TestClientNeverConnecting(t *testing.T) {
	c, _ := startCoordinator(t, Config{Jobs: []string{"a", "b"}, StartTimeout: 50 * time.Millisecond})
	a := join(t, c, "a")
	waitTurn(t, a)
	report(t, a, engine.Exit{})
	got := done(t, c)
	if !errors.Is(got.Err, ErrNeverConnected) || got.Code != engine.ExitInternal {
		t.Errorf("Done = %+v, want never-connected", got)
	}
	if d := cmp.Diff(map[string]State{"a": StateExited, "b": StateNeverConnected}, states(c)); d != "" {
		t.Errorf("states (-want +got):\n%s", d)
	}
}

func dialRaw(t *testing.T, c *Coordinator) net.Conn {
	t.Helper()
	nc, err := net.Dial("unix", c.cfg.Socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

func TestRefusedConnections(t *testing.T) {
	tests := []struct {
		name      string
		send      []byte
		wantError string
	}{
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "frame too large"},
		{"malformed json", rawFrame(`{"type":`), "malformed"},
		{"message before hello", mustFrame(wire.Message{Type: wire.TypeExit, Code: 0}), "expected hello, got exit"},
		{"future protocol", mustFrame(wire.Message{Type: wire.TypeHello, Nonce: wire.NewNonce(), Name: "a", Version: 99}), "version 99 not supported"},
		{"protocol version 1, sending its token", mustFrame(wire.Message{Type: wire.TypeHello, Token: testToken, Name: "a", Version: 1}), "version 1 not supported"},
		{"auth without hello", mustFrame(wire.Message{Type: wire.TypeAuth, Proof: make([]byte, wire.NonceSize)}), "expected hello, got auth"},
	}
	c, _ := startCoordinator(t, Config{Jobs: []string{"a"}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc := dialRaw(t, c)
			nc.Write(tt.send)
			nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			m, err := wire.ReadMessage(nc)
			if err != nil || m.Type != wire.TypeError || !strings.Contains(m.Error, tt.wantError) {
				t.Fatalf("reply %+v, %v; want error containing %q", m, err, tt.wantError)
			}
			if _, err := wire.ReadMessage(nc); err == nil {
				t.Error("connection still open after the error")
			}
		})
	}
	// The coordinator is unharmed and still serves the real container.
	a := join(t, c, "a")
	waitTurn(t, a)
	report(t, a, engine.Exit{})
	done(t, c)
}

// rawHandshake authenticates nc as join would, with token and name, and
// leaves the coordinator's answer to the auth (welcome or error) unread.
func rawHandshake(t testing.TB, nc net.Conn, token, name string) {
	t.Helper()
	nonce := wire.NewNonce()
	if err := wire.WriteMessage(nc, wire.Message{Type: wire.TypeHello, Name: name, Version: wire.Version, Nonce: nonce}); err != nil {
		t.Fatal(err)
	}
	m, err := wire.ReadMessage(nc)
	if err != nil || m.Type != wire.TypeChallenge {
		t.Fatalf("challenge: %+v, %v", m, err)
	}
	if err := wire.WriteMessage(nc, wire.Message{Type: wire.TypeAuth, Proof: wire.JoinProof(token, nonce, m.Nonce, name)}); err != nil {
		t.Fatal(err)
	}
}

// fakeHandshake plays the coordinator's part of the handshake on nc, with
// testToken, for tests that stand in for the coordinator.
func fakeHandshake(nc net.Conn) {
	hello, err := wire.ReadMessage(nc)
	if err != nil {
		return
	}
	nonce := wire.NewNonce()
	wire.WriteMessage(nc, wire.Message{Type: wire.TypeChallenge, Version: wire.Version, Nonce: nonce, Proof: wire.CoordinatorProof(testToken, hello.Nonce, nonce, hello.Name)})
	wire.ReadMessage(nc) // auth
}

func TestUnknownContainerIsRefused(t *testing.T) {
	c, _ := startCoordinator(t, Config{Jobs: []string{"a"}})
	_, err := Join(context.Background(), ClientConfig{Socket: c.cfg.Socket, Token: testToken, Name: "intruder", StartTimeout: time.Second})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "unknown container") {
		t.Errorf("Join = %v, want refused as unknown", err)
	}
}

// A wrong proof in auth, from a raw client that knows the coordinator's
// nonce but not the token.
func TestWrongProofIsRefused(t *testing.T) {
	c, _ := startCoordinator(t, Config{Jobs: []string{"a"}})
	nc := dialRaw(t, c)
	rawHandshake(t, nc, "guess", "a")
	m, err := wire.ReadMessage(nc)
	if err != nil || m.Type != wire.TypeError || m.Error != "authentication failed" {
		t.Fatalf("reply %+v, %v; want authentication failed", m, err)
	}
}

// An impostor listening at the socket path (any process of the same uid
// can bind there before the coordinator, or replace its socket) must not
// learn the token: join sends nothing secret before the listener has
// proved it knows the token, and gives up when it cannot.
func TestImpostorListenerDoesNotLearnTheToken(t *testing.T) {
	path := filepath.Join(shortDir(t), "sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	heard := make(chan []byte, 1)
	go func() {
		nc, err := l.AcceptUnix()
		if err != nil {
			return
		}
		defer nc.Close()
		var all []byte
		buf := make([]byte, 4096)
		// The impostor's best try: a challenge with a made-up proof,
		// then it records everything join sends until it hangs up.
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		hello, err := wire.ReadMessage(nc)
		if err != nil {
			heard <- nil
			return
		}
		all, _ = json.Marshal(hello)
		wire.WriteMessage(nc, wire.Message{Type: wire.TypeChallenge, Version: wire.Version, Nonce: wire.NewNonce(), Proof: wire.CoordinatorProof("guess", hello.Nonce, wire.NewNonce(), hello.Name)})
		for {
			n, err := nc.Read(buf)
			all = append(all, buf[:n]...)
			if err != nil {
				break
			}
		}
		heard <- all
	}()
	_, err = Join(context.Background(), ClientConfig{Socket: path, Token: testToken, Name: "a", StartTimeout: 5 * time.Second})
	if !errors.Is(err, ErrImpostor) {
		t.Errorf("Join = %v, want ErrImpostor", err)
	}
	select {
	case got := <-heard:
		if got == nil {
			t.Fatal("no hello")
		}
		if bytes.Contains(got, []byte(testToken)) || bytes.Contains(got, []byte(`"proof":`)) || bytes.Contains(got, []byte(`"token":`)) {
			t.Errorf("the impostor heard the token or a proof: %s", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("join did not hang up on the impostor")
	}
}

func TestWrongTokenFromJoin(t *testing.T) {
	c, _ := startCoordinator(t, Config{Jobs: []string{"a"}})
	_, err := Join(context.Background(), ClientConfig{Socket: c.cfg.Socket, Token: "nope", Name: "a", StartTimeout: time.Second})
	// join cannot tell a coordinator with another token from an impostor.
	if !errors.Is(err, ErrImpostor) || !strings.Contains(err.Error(), "authentication failed") {
		t.Errorf("Join = %v, want refused", err)
	}
}

func TestOutOfOrderMessageClosesConnection(t *testing.T) {
	c, _ := startCoordinator(t, Config{Jobs: []string{"a"}})
	a := join(t, c, "a")
	waitTurn(t, a)
	a.p.send(wire.Message{Type: wire.TypeStart}) // only the coordinator says start
	<-a.Gone()
	if !strings.Contains(a.Reason(), "unexpected start") {
		t.Errorf("reason %q", a.Reason())
	}
	waitState(t, c, "a", StateLost)
}

// A token holder's exit report whose text would forge the coordinator's
// log lines (a newline, then a summary line; a terminal escape) is a
// protocol error, never printed; a container sending it is lost.
func TestForgedExitReportIsRefused(t *testing.T) {
	for _, forged := range []wire.Message{
		{Type: wire.TypeExit, Code: 1, Error: "x\ngraceful: summary: build exited with status 0"},
		{Type: wire.TypeExit, Code: 1, Signal: "SIGKILL\x1b[2J", SignalNumber: 9},
	} {
		var logs syncBuffer
		c, err := Listen(Config{Socket: filepath.Join(shortDir(t), "sock"), Token: testToken, Jobs: []string{"build"},
			Logf: func(f string, a ...any) { fmt.Fprintf(&logs, f+"\n", a...) }})
		if err != nil {
			t.Fatal(err)
		}
		a := join(t, c, "build")
		waitTurn(t, a)
		a.p.send(forged)
		waitState(t, c, "build", StateLost)
		if e := done(t, c); e.Status() == 0 {
			t.Errorf("job status %d after a forged report", e.Status())
		}
		c.Close()
		text := logs.String()
		if strings.Contains(text, "\ngraceful: summary") || strings.ContainsAny(text, "\x1b\ufffd") {
			t.Errorf("forged text reached the log:\n%s", text)
		}
		if !strings.Contains(text, "protocol error") {
			t.Errorf("no protocol error logged:\n%s", text)
		}
	}
}

func TestCoordinatorGoneEndsSession(t *testing.T) {
	c, _ := startCoordinator(t, Config{Jobs: []string{"a"}})
	a := join(t, c, "a")
	waitTurn(t, a)
	c.Close()
	select {
	case <-a.Gone():
	case <-time.After(5 * time.Second):
		t.Fatal("session not gone")
	}
	select {
	case <-a.Interrupted(): // bye from a closing coordinator interrupts too
	default:
		t.Error("not interrupted by the coordinator's bye")
	}
}

// rawFrame is body as one frame, valid or not.
func rawFrame(body string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func mustFrame(m wire.Message) []byte {
	b, err := wire.AppendFrame(nil, m)
	if err != nil {
		panic(err)
	}
	return b
}

func TestSocketFile(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "sock")
	c, _ := startCoordinator(t, Config{Socket: path})
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want socket 0600", fi.Mode())
	}
	if _, err := Listen(Config{Socket: path, Token: "x"}); !errors.Is(err, ErrCoordinatorRunning) {
		t.Errorf("second coordinator: %v, want ErrCoordinatorRunning", err)
	}
	c.Close()
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
	if _, err := os.Lstat(path + DoneSuffix); err != nil {
		t.Errorf("no done marker: %v", err)
	}
	_, err = Join(context.Background(), ClientConfig{Socket: path, Token: testToken, StartTimeout: 5 * time.Second})
	if !errors.Is(err, ErrFinished) {
		t.Errorf("Join after the coordinator finished = %v, want ErrFinished", err)
	}
	// A new coordinator on the same path removes the stale marker.
	c2, _ := startCoordinator(t, Config{Socket: path})
	if _, err := os.Lstat(path + DoneSuffix); !os.IsNotExist(err) {
		t.Errorf("stale done marker kept: %v", err)
	}
	c2.Close()
}

func TestStaleSocketIsReplaced(t *testing.T) {
	path := filepath.Join(shortDir(t), "sock")
	// A socket file nobody listens on, as a crashed coordinator leaves it.
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	c, _ := startCoordinator(t, Config{Socket: path, Jobs: []string{"a"}})
	a := join(t, c, "a")
	waitTurn(t, a)
}

func TestSocketPathErrors(t *testing.T) {
	dir := shortDir(t)
	regular := filepath.Join(dir, "file")
	os.WriteFile(regular, []byte("keep me"), 0o600)
	long := "/tmp/" + strings.Repeat("x", 110)
	tests := []struct {
		name, path, want string
	}{
		{"path longer than sun_path", long, "at most 107"},
		{"regular file in the way", regular, "not a socket"},
		{"no path", "", "no socket path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Listen(Config{Socket: tt.path, Token: "x"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Listen = %v, want %q", err, tt.want)
			}
		})
	}
	if b, _ := os.ReadFile(regular); string(b) != "keep me" {
		t.Error("regular file was touched")
	}
}

func TestTokenFile(t *testing.T) {
	file := filepath.Join(shortDir(t), "token")
	tok, err := EnsureToken(file)
	if err != nil || len(tok) != 64 {
		t.Fatalf("EnsureToken = %q, %v", tok, err)
	}
	fi, _ := os.Stat(file)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v", fi.Mode().Perm())
	}
	again, err := EnsureToken(file)
	if err != nil || again != tok {
		t.Errorf("second EnsureToken = %q, %v; want the same token", again, err)
	}
	os.Chmod(file, 0o644)
	if _, err := ReadToken(file); err == nil {
		t.Error("world-readable token file accepted")
	}
}

// A token file on the shared volume is refused, at once and with a clear
// error, unless it is a regular file of ours: a FIFO used to hang open()
// (the coordinator before it listened, join past its start timeout), a
// symlink was followed, and a file planted by another uid was believed.
func TestTokenFileMustBeOurRegularFile(t *testing.T) {
	dir := shortDir(t)
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("s3cret\n"), 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	big := filepath.Join(dir, "big")
	os.WriteFile(big, bytes.Repeat([]byte("x"), 4096), 0o600)
	tests := []struct{ name, file, want string }{
		{"FIFO", fifo, "not a regular file (a FIFO)"},
		{"symlink", link, "is a symlink"},
		{"directory", dir, "not a regular file (a directory)"},
		{"too long", big, "4096 bytes long"},
	}
	if os.Getuid() == 0 {
		other := filepath.Join(dir, "other")
		os.WriteFile(other, []byte("planted\n"), 0o600)
		if err := os.Chown(other, 4242, 4242); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct{ name, file, want string }{"owned by another uid", other, "owned by uid 4242"})
	} else {
		t.Log("not root: the other-uid case is not run")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range []func() error{
				func() error { _, err := ReadToken(tt.file); return err },
				func() error { _, err := EnsureToken(tt.file); return err },
				func() error {
					_, err := Join(context.Background(), ClientConfig{Socket: filepath.Join(dir, "sock"), TokenFile: tt.file, Name: "a", StartTimeout: 2 * time.Second})
					return err
				},
			} {
				errc := make(chan error, 1)
				go func() { errc <- f() }()
				select {
				case err := <-errc:
					if err == nil || !strings.Contains(err.Error(), tt.want) {
						t.Errorf("error %v, want %q", err, tt.want)
					}
				case <-time.After(time.Second):
					t.Fatal("hangs on the token file")
				}
			}
		})
	}
	if tok, err := ReadToken(target); err != nil || tok != "s3cret" {
		t.Errorf("ReadToken of a good file = %q, %v", tok, err)
	}
}

// A uid listed in --peer-uid can connect although the coordinator runs as
// another (the socket's ACL lets it in), and runs its job; a uid not
// listed cannot even connect.
func TestPeerUIDOfAnotherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another uid")
	}
	dir := shortDir(t)
	// The peer must reach the socket's directory and the test binary,
	// as in a pod's emptyDir.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "peer.test")
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	const peerUID, strangerUID = 4242, 4343
	c, _ := startCoordinator(t, Config{Socket: filepath.Join(dir, "sock"), Jobs: []string{"peer"}, PeerUIDs: []int{peerUID}})
	run := func(uid uint32) (string, error) {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "GK_HELPER=peer", "GK_SOCKET="+c.cfg.Socket, "GK_NAME=peer", "GRACEFUL_TOKEN="+testToken, "GK_PEER_UIDS=0")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(strangerUID); err == nil || !strings.Contains(out, "permission denied") {
		t.Errorf("uid %d not listed: %v, %s; want permission denied", strangerUID, err, out)
	}
	if out, err := run(peerUID); err != nil {
		t.Fatalf("uid %d listed in PeerUIDs: %v\n%s", peerUID, err, out)
	}
	if e := done(t, c); e.Status() != 0 {
		t.Errorf("job status %d, want 0", e.Status())
	}
	if fi, err := os.Lstat(c.cfg.Socket); err != nil || fi.Mode().Perm() != 0o660 && fi.Mode().Perm() != 0o666 {
		// With an ACL, the group bits show the ACL's mask (rw).
		t.Errorf("socket mode %v, %v", fi.Mode().Perm(), err)
	}
}

// The socket's mode for each --peer-uid shape: our own uid adds nothing,
// any uid (-1) opens it to every uid (the uid check and the token remain).
func TestSocketModeForPeerUIDs(t *testing.T) {
	for _, tt := range []struct {
		peers []int
		want  os.FileMode
	}{
		{nil, 0o600},
		{[]int{os.Getuid()}, 0o600},
		{[]int{-1}, 0o666},
	} {
		c, _ := startCoordinator(t, Config{Jobs: []string{"a"}, PeerUIDs: tt.peers})
		if fi, err := os.Lstat(c.cfg.Socket); err != nil || fi.Mode().Perm() != tt.want {
			t.Errorf("PeerUIDs %v: socket %v, %v; want mode %v", tt.peers, fi.Mode().Perm(), err, tt.want)
		}
	}
}

func TestUIDAllowed(t *testing.T) {
	own := uint32(os.Getuid())
	tests := []struct {
		name  string
		uid   uint32
		extra []int
		want  bool
	}{
		{"own uid", own, nil, true},
		{"other uid", own + 1000, nil, false},
		{"other uid listed", own + 1000, []int{int(own) + 1000}, true},
		{"any uid", own + 1000, []int{-1}, true},
	}
	for _, tt := range tests {
		if got := uidAllowed(tt.uid, tt.extra); got != tt.want {
			t.Errorf("%s: uidAllowed = %v", tt.name, got)
		}
	}
}

// slowWriter is a coordinator stdout that takes its time, like a container
// runtime's log pipe under pressure.
type slowWriter struct {
	mu sync.Mutex
	n  int
}

func (w *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(20 * time.Millisecond)
	w.mu.Lock()
	w.n += len(p)
	w.mu.Unlock()
	return len(p), nil
}

func (w *slowWriter) written() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// A job flooding output towards a slow coordinator must not make either
// side declare the other lost: liveness does not share a path with the
// job's work (the Buildkite agent's false "lost" reports).
//
// The window is short (150ms) so that the flood outlasts it six times; a
// loaded machine can leave this process unscheduled for longer than that,
// and then both sides are rightly silent. Such an attempt proves nothing
// and is repeated; a failure without a stall fails the test.
func TestFloodingJobIsNotLost(t *testing.T) {
	const interval, misses = 50 * time.Millisecond, 3
	window := interval * misses
	for attempt := 1; ; attempt++ {
		w := watchStalls()
		err := floodOnce(t, interval, misses)
		stall := w.stop()
		if err == nil {
			return
		}
		if stall < window/3 {
			t.Fatalf("%v (longest scheduling stall %v)", err, stall)
		}
		t.Logf("attempt %d: %v; but this process went %v unscheduled, against a %v liveness window", attempt, err, stall, window)
		if attempt == 5 {
			t.Skipf("machine too loaded for a %v liveness window: %d attempts stalled", window, attempt)
		}
	}
}

func floodOnce(t *testing.T, interval time.Duration, misses int) error {
	out := &slowWriter{}
	c, err := Listen(Config{
		Socket:   filepath.Join(shortDir(t), "sock"),
		Token:    testToken,
		Jobs:     []string{"flood"},
		Interval: interval,
		Misses:   misses,
		Output:   out,
		Logf:     t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := Join(context.Background(), ClientConfig{Socket: c.cfg.Socket, Token: testToken, Name: "flood", StartTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if ok, err := s.WaitTurn(ctx); !ok || err != nil {
		return fmt.Errorf("no start: %v", err)
	}
	// 768 KiB, more than the socket buffers hold: at 20ms per chunk the
	// coordinator needs 1s, six times the liveness window, to take it.
	chunk := append(bytes.Repeat([]byte("x"), wire.MaxLogChunk-1), '\n')
	lw := s.LogWriter("stdout")
	for range 48 {
		lw.Write(chunk)
	}
	select {
	case <-s.Gone():
		return fmt.Errorf("session ended while flooding: %s", s.Reason())
	default:
	}
	if err := s.ReportExit(ctx, engine.Exit{}); err != nil {
		return fmt.Errorf("ReportExit: %v", err)
	}
	select {
	case got := <-c.Done():
		if got.Status() != 0 {
			return fmt.Errorf("Done = %+v, want success; statuses %+v", got, c.Statuses())
		}
	case <-ctx.Done():
		return fmt.Errorf("Done not reported; statuses %+v", c.Statuses())
	}
	// The output is queued, not dropped: a slow stdout gets all of it,
	// after the status.
	want := 48 * (wire.MaxLogChunk + len("[flood] "))
	for deadline := time.Now().Add(5 * time.Second); out.written() != want && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := out.written(); n != want {
		t.Errorf("coordinator wrote %d bytes of output, want %d", n, want)
	}
	return nil
}

// stallWatch measures how long this process went without being scheduled:
// the longest gap between the ticks of a 5ms ticker.
type stallWatch struct {
	done chan struct{}
	max  chan time.Duration
}

func watchStalls() *stallWatch {
	w := &stallWatch{done: make(chan struct{}), max: make(chan time.Duration, 1)}
	go func() {
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		last, longest := time.Now(), time.Duration(0)
		for {
			select {
			case <-w.done:
				w.max <- max(longest, time.Since(last))
				return
			case <-tk.C:
				now := time.Now() // not the tick's: it may have waited
				longest = max(longest, now.Sub(last))
				last = now
			}
		}
	}()
	return w
}

func (w *stallWatch) stop() time.Duration {
	close(w.done)
	return <-w.max
}

// A coordinator that stops talking without closing the connection (frozen,
// its node partitioned) is lost after the liveness window, and the session
// says so: join then cancels its job.
func TestSilentCoordinatorIsLost(t *testing.T) {
	path := filepath.Join(shortDir(t), "sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		fakeHandshake(nc)
		wire.WriteMessage(nc, wire.Message{Type: wire.TypeWelcome, Version: wire.Version, IntervalMS: 20, Name: "a"})
		wire.WriteMessage(nc, wire.Message{Type: wire.TypeStart})
		// ...and then nothing, while still reading.
		bytes.NewBuffer(nil).ReadFrom(nc)
	}()
	s, err := Join(context.Background(), ClientConfig{Socket: path, Token: testToken, Name: "a", StartTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitTurn(t, s)
	select {
	case <-s.Gone():
	case <-time.After(5 * time.Second):
		t.Fatal("silent coordinator not noticed")
	}
	if !strings.Contains(s.Reason(), "liveness") {
		t.Errorf("reason %q, want the liveness window", s.Reason())
	}
}

// A connection that never says hello must not hold up the coordinator's
// exit for the hello timeout.
func TestCloseDoesNotWaitForSilentConnections(t *testing.T) {
	c, _ := startCoordinator(t, Config{Jobs: []string{"a"}})
	dialRaw(t, c)
	dialRaw(t, c)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		c.mu.Lock()
		n := len(c.pending)
		c.mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections accepted, want 2", n)
		}
	}
	start := time.Now()
	c.Close()
	if took := time.Since(start); took >= helloTimeout {
		t.Errorf("Close took %v, as long as the hello timeout", took)
	}
}

func TestLateContainerAfterStartTimeoutIsSkipped(t *testing.T) {
	for _, cfg := range []Config{{Jobs: []string{"a"}}, {Count: 1}} {
		cfg.StartTimeout = 20 * time.Millisecond
		c, _ := startCoordinator(t, cfg)
		if got := done(t, c); !errors.Is(got.Err, ErrNeverConnected) {
			t.Fatalf("Done = %+v, want never-connected", got)
		}
		late := join(t, c, "a")
		if waitTurn(t, late) {
			t.Errorf("%+v: late container started", cfg)
		}
	}
}

func TestExecInTheCoordinatorsContainer(t *testing.T) {
	c, _ := startCoordinator(t, Config{Jobs: []string{"a"}})
	out := filepath.Join(shortDir(t), "out")
	tests := []struct {
		name    string
		argv    []string
		timeout time.Duration
		wantErr string
	}{
		{"succeeds with the outcome in its environment", []string{"sh", "-c", `echo "$GRACEFUL_OUTCOME" > ` + out}, time.Minute, ""},
		{"fails", []string{"sh", "-c", "exit 3"}, time.Minute, "exit status 3"},
		{"not found", []string{"/nonexistent/finalize"}, time.Minute, "not found"},
		{"cut off at its deadline", []string{"sleep", "60"}, 50 * time.Millisecond, "deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			err := c.Exec(ctx, tt.argv, []string{"GRACEFUL_OUTCOME=cancelled"})
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Exec = %v, want %q", err, tt.wantErr)
			}
		})
	}
	if b, _ := os.ReadFile(out); string(b) != "cancelled\n" {
		t.Errorf("command saw GRACEFUL_OUTCOME=%q", b)
	}
}

// A coordinator that stops reading (but keeps pinging) must not hang join:
// the exit report gives up at its context and Close within a second.
func TestCoordinatorNotReadingDoesNotHangJoin(t *testing.T) {
	path := filepath.Join(shortDir(t), "sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		fakeHandshake(nc) // then never read again
		wire.WriteMessage(nc, wire.Message{Type: wire.TypeWelcome, Version: wire.Version, IntervalMS: 200, Name: "a"})
		wire.WriteMessage(nc, wire.Message{Type: wire.TypeStart})
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				if wire.WriteMessage(nc, wire.Message{Type: wire.TypePing}) != nil {
					return
				}
			case <-stop:
				return
			}
		}
	}()
	s, err := Join(context.Background(), ClientConfig{Socket: path, Token: testToken, Name: "a", StartTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitTurn(t, s)
	go func() { // output the coordinator never takes: blocks once the socket is full
		chunk := bytes.Repeat([]byte("x"), wire.MaxLogChunk)
		for range 256 {
			s.LogWriter("stdout").Write(chunk)
		}
	}()
	// By the time the report gives up, the output has filled the socket.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.ReportExit(ctx, engine.Exit{}); err == nil {
		t.Error("exit report acknowledged by a coordinator that does not read")
	}
	start := time.Now()
	s.Close()
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Close took %v", took)
	}
}

// The shared volume is writable by the job containers: a symlink planted
// at the done marker's or the lock's path must not make the coordinator
// (often root) write through it.
func TestSocketSideFilesDoNotFollowSymlinks(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "sock")
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := startCoordinator(t, Config{Socket: path})
	if err := os.Symlink(victim, path+DoneSuffix); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if b, _ := os.ReadFile(victim); string(b) != "keep me" {
		t.Errorf("victim rewritten through the done marker's symlink: %q", b)
	}
	if fi, err := os.Lstat(path + DoneSuffix); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("done marker %v, %v; want a regular file", fi, err)
	}

	lockPath := filepath.Join(dir, "sock2")
	if err := os.Symlink(filepath.Join(dir, "created"), lockPath+".lock"); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(Config{Socket: lockPath, Token: testToken}); err == nil {
		t.Error("Listen accepted a symlinked lock file")
	}
	if _, err := os.Lstat(filepath.Join(dir, "created")); !os.IsNotExist(err) {
		t.Errorf("lock file created through a symlink: %v", err)
	}
}

// Before authentication a peer can make the coordinator hold only a small
// hello: a first frame announcing tens of KiB is refused at its header,
// not waited for (and allocated) until the hello timeout.
func TestLargeFirstFrameRefusedAtOnce(t *testing.T) {
	c, _ := startCoordinator(t, Config{Jobs: []string{"a"}})
	nc := dialRaw(t, c)
	nc.Write([]byte{0, 0, 0xea, 0x60}) // 60000 bytes to come; none sent
	nc.SetReadDeadline(time.Now().Add(helloTimeout / 2))
	m, err := wire.ReadMessage(nc)
	if err != nil || m.Type != wire.TypeError || !strings.Contains(m.Error, "frame too large") {
		t.Fatalf("reply %+v, %v; want an immediate frame-too-large error", m, err)
	}
	// That a real hello still fits is wire's TestLongestHelloFitsTheHelloLimit.
}

// stuckWriter blocks every Write until released, like a stdout nobody reads.
type stuckWriter struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (w *stuckWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.release
	return len(p), nil
}

// A stdout that stops taking the job's output must not hold up what the
// engine calls (Notify, Abandon) nor the coordinator's exit.
func TestStuckOutputDoesNotBlockTheEngine(t *testing.T) {
	w := &stuckWriter{entered: make(chan struct{}), release: make(chan struct{})}
	defer close(w.release)
	c, err := Listen(Config{Socket: filepath.Join(shortDir(t), "sock"), Token: testToken, Jobs: []string{"a", "b"}, Parallel: true, Output: w, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	a, b := join(t, c, "a"), join(t, c, "b")
	waitTurn(t, a)
	waitTurn(t, b)
	// A partial line, written when a's exit report arrives.
	a.LogWriter("stdout").Write([]byte("no newline"))
	go a.ReportExit(context.Background(), engine.Exit{})
	<-w.entered
	returned := make(chan string, 3)
	go func() { c.Notify(wire.TypeInterrupt); returned <- "Notify" }()
	go func() { c.Abandon(); returned <- "Abandon" }()
	go func() { c.Close(); returned <- "Close" }()
	for range 3 {
		select {
		case <-returned:
		case <-time.After(10 * time.Second):
			t.Fatal("Notify, Abandon or Close blocked behind the stuck output")
		}
	}
}

// A coordinator stdout that takes nothing any more must not hide a
// finished container: its exit report is processed at once and the job's
// status is the container's 0; the lines that could not be written are
// counted and said when the coordinator closes.
func TestStuckOutputDoesNotHideAnExit(t *testing.T) {
	w := &stuckWriter{entered: make(chan struct{}), release: make(chan struct{})}
	defer close(w.release)
	var logs syncBuffer
	c, err := Listen(Config{Socket: filepath.Join(shortDir(t), "sock"), Token: testToken, Jobs: []string{"build"}, Output: w, OutputQueue: 1 << 10,
		Logf: func(f string, a ...any) { fmt.Fprintf(&logs, f+"\n", a...) }})
	if err != nil {
		t.Fatal(err)
	}
	a := join(t, c, "build")
	waitTurn(t, a)
	out := a.LogWriter("stdout")
	for i := range 200 {
		fmt.Fprintf(out, "line %d of the build\n", i)
	}
	<-w.entered
	start := time.Now()
	report(t, a, engine.Exit{})
	select {
	case e := <-c.Done():
		if e.Status() != 0 {
			t.Errorf("job status %d, want the container's 0", e.Status())
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("no status 2s after the exit report; statuses %+v", c.Statuses())
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("status %v after the exit report", took)
	}
	if st := c.Statuses()[0]; st.State != StateExited {
		t.Errorf("container %s, want exited", st.State)
	}
	c.Close()
	if !strings.Contains(logs.String(), "line(s) of job output") {
		t.Errorf("lost lines not said:\n%s", logs.String())
	}
}

// With --jobs N, a container may present a name of the job-N form; one
// that presents none must not be given the same name.
func TestDefaultNamesDoNotCollide(t *testing.T) {
	c, _ := startCoordinator(t, Config{Count: 3, Parallel: true, StartTimeout: time.Hour})
	named := join(t, c, "job-1")
	waitTurn(t, named)
	anon := join(t, c, "")
	waitTurn(t, anon)
	if anon.Name == "job-1" {
		t.Errorf("anonymous container named %q, the name another one presented", anon.Name)
	}
	anon2 := join(t, c, "")
	waitTurn(t, anon2)
	seen := map[string]bool{}
	for _, s := range c.Statuses() {
		if seen[s.Name] {
			t.Errorf("two containers named %q: %+v", s.Name, c.Statuses())
		}
		seen[s.Name] = true
	}
}

// A frame that arrived within the liveness window counts even when this
// side looks at it only after the window (its process was stalled): Go
// fails a read past its deadline without looking at the socket.
func TestFrameWaitingPastTheDeadlineIsNotLost(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "pair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*net.UnixConn)
	}
	ours, theirs := conn(fds[0]), conn(fds[1])
	if _, err := theirs.Write(mustFrame(wire.Message{Type: wire.TypePing, Seq: 7})); err != nil {
		t.Fatal(err)
	}
	// A window so short it has passed by the time the read starts.
	p := newPeer(ours, time.Second, time.Nanosecond)
	m, err := p.read()
	if err != nil || m.Type != wire.TypePing || m.Seq != 7 {
		t.Fatalf("read = %+v, %v; want the ping that was waiting", m, err)
	}
	// Nothing waiting: lost, as before.
	if _, err := p.read(); !errors.Is(err, ErrLost) {
		t.Errorf("read with nothing sent = %v, want ErrLost", err)
	}
}

// Every path within the documented limit works, however short its last
// element (the socket is first bound under a longer temporary name).
func TestSocketPathOfTheMaximumLength(t *testing.T) {
	dir := shortDir(t)
	sub := filepath.Join(dir, strings.Repeat("d", MaxSocketPath-len(dir)-len("/s")-1))
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(sub, "s")
	if len(path) != MaxSocketPath {
		t.Fatalf("test path is %d bytes", len(path))
	}
	c, _ := startCoordinator(t, Config{Socket: path, Jobs: []string{"a"}})
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v, %v; want mode 0600", fi, err)
	}
	a := join(t, c, "a")
	waitTurn(t, a)
	report(t, a, engine.Exit{})
	done(t, c)
}

func TestLivenessIntervalOutOfRange(t *testing.T) {
	for _, d := range []time.Duration{time.Microsecond, 2 * wire.MaxInterval} {
		_, err := Listen(Config{Socket: filepath.Join(shortDir(t), "sock"), Token: testToken, Interval: d})
		if err == nil || !strings.Contains(err.Error(), "liveness interval") {
			t.Errorf("Listen with interval %v = %v, want refused", d, err)
		}
	}
}

// A coordinator that keeps pinging but has stopped taking the job's output
// for a while (its stdout is stuck) is alive: join must not hang up when
// the pongs it owes pile up behind the output.
func TestPingsBehindStuckOutputDoNotEndTheSession(t *testing.T) {
	path := filepath.Join(shortDir(t), "sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan *net.UnixConn, 1)
	go func() {
		nc, err := l.AcceptUnix()
		if err != nil {
			return
		}
		fakeHandshake(nc)
		wire.WriteMessage(nc, wire.Message{Type: wire.TypeWelcome, Version: wire.Version, IntervalMS: time.Hour.Milliseconds(), Name: "a"})
		accepted <- nc
	}()
	s, err := Join(context.Background(), ClientConfig{Socket: path, Token: testToken, Name: "a", StartTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.p.close(nil)
	coord := <-accepted
	defer coord.Close()
	// Output the coordinator does not read, until join's writer is stuck
	// in a write and its queue is full.
	go func() {
		chunk := bytes.Repeat([]byte("x"), wire.MaxLogChunk)
		w := s.LogWriter("stdout")
		for range 256 {
			w.Write(chunk)
		}
	}()
	for deadline := time.Now().Add(5 * time.Second); len(s.p.data) < cap(s.p.data) || pendingBytes(coord) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("join's output queue never filled")
		}
	}
	// More pings than join's control queue holds, then an interrupt.
	var b []byte
	for i := range 2 * cap(s.p.ctl) {
		b = append(b, mustFrame(wire.Message{Type: wire.TypePing, Seq: uint64(i + 1)})...)
	}
	b = append(b, mustFrame(wire.Message{Type: wire.TypeInterrupt, Reason: "test"})...)
	if _, err := coord.Write(b); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Interrupted():
		// Seen (the reader had it buffered) but after hanging up?
		select {
		case <-s.p.done:
			t.Fatalf("join hung up on a live coordinator: %v", s.p.cause())
		default:
		}
	case <-s.Gone():
		t.Fatalf("session ended: %s", s.Reason())
	case <-time.After(10 * time.Second):
		t.Fatal("interrupt not seen")
	}
}

// An ack that arrives before join has reported anything is out of order;
// kept, it would later pass for the acknowledgement of the real report.
func TestAckBeforeTheExitReportIsAProtocolError(t *testing.T) {
	path := filepath.Join(shortDir(t), "sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		nc, err := l.AcceptUnix()
		if err != nil {
			return
		}
		defer nc.Close()
		fakeHandshake(nc)
		wire.WriteMessage(nc, wire.Message{Type: wire.TypeWelcome, Version: wire.Version, Name: "a", IntervalMS: time.Minute.Milliseconds()})
		wire.WriteMessage(nc, wire.Message{Type: wire.TypeStart})
		wire.WriteMessage(nc, wire.Message{Type: wire.TypeAck})
		for { // read, never acknowledge
			if _, err := wire.ReadMessage(nc); err != nil {
				return
			}
		}
	}()
	s, err := Join(context.Background(), ClientConfig{Socket: path, Token: testToken, Name: "a", StartTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.p.close(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case <-s.Gone(): // the early ack ended the session
	case <-time.After(2 * time.Second):
	}
	if err := s.ReportExit(ctx, engine.Exit{}); err == nil {
		t.Fatal("ReportExit acknowledged by an ack sent before the report")
	}
	if !strings.Contains(s.Reason(), "unexpected ack") {
		t.Errorf("reason %q", s.Reason())
	}
}
