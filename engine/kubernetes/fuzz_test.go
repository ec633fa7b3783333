//go:build linux

package kubernetes

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graceful-sh/graceful/engine/kubernetes/internal/wire"
)

// TestArbitraryBytesAfterHello sends an authenticated hello followed by
// random bytes and by mutations of valid frames to a real coordinator:
// whatever comes, it must not crash, must answer or hang up, and must close
// promptly. (A native fuzz target over real sockets stalled the fuzzing
// engine's workers, so this is a seeded random test; the decoder itself is
// fuzzed by FuzzDecode.)
func TestArbitraryBytesAfterHello(t *testing.T) {
	seeds := [][]byte{
		mustFrame(wire.Message{Type: wire.TypeLog, Stream: "stdout", Data: []byte("before start\n")}),
		append(mustFrame(wire.Message{Type: wire.TypePing, Seq: 1}), mustFrame(wire.Message{Type: wire.TypeExit, Code: 1})...),
		mustFrame(wire.Message{Type: wire.TypeHello, Nonce: make([]byte, wire.NonceSize), Name: "a", Version: wire.Version}),
		mustFrame(wire.Message{Type: wire.TypeAuth, Proof: make([]byte, wire.NonceSize)}),
		append(mustFrame(wire.Message{Type: wire.TypeBye}), 0xff, 0xff),
		[]byte("\x00\x00\x00\x02{}"),
		mustFrame(wire.Message{Type: wire.TypeExit, Signal: "SIGKILL", SignalNumber: 9}),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	dir := shortDir(t)
	for i := range 200 {
		var in []byte
		switch i % 3 {
		case 0: // random bytes
			in = make([]byte, rng.IntN(256))
			for j := range in {
				in[j] = byte(rng.Uint32())
			}
		default: // a valid frame with a few bytes flipped, or cut short
			in = append([]byte(nil), seeds[rng.IntN(len(seeds))]...)
			for range rng.IntN(4) {
				in[rng.IntN(len(in))] = byte(rng.Uint32())
			}
			if rng.IntN(4) == 0 {
				in = in[:rng.IntN(len(in))]
			}
		}
		c, err := Listen(Config{Socket: filepath.Join(dir, "sock"), Token: testToken, Jobs: []string{"a"}, Interval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		nc, err := net.Dial("unix", c.cfg.Socket)
		if err != nil {
			t.Fatal(err)
		}
		rawHandshake(t, nc, testToken, "a")
		nc.Write(in)
		nc.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		io.Copy(io.Discard, nc)
		nc.Close()
		start := time.Now()
		c.Close()
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("input %q: Close took %v", in, took)
		}
	}
}

// FuzzDecode checks that no input crashes the frame decoder (package wire,
// which reads every byte a client sends), and that whatever it accepts
// survives a write and a second read unchanged. It stays in this package,
// beside the socket-level test above, so that CI's command for it is
// unchanged: go test -run='^$' -fuzz='^FuzzDecode$' ./engine/kubernetes.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","token":"abc","name":"job","version":1}`,
		`{"type":"hello","name":"job","version":2,"nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`,
		`{"type":"challenge","version":2,"nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","proof":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`,
		`{"type":"auth","proof":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`,
		`{"type":"log","stream":"stdout","data":"aGVsbG8K"}`,
		`{"type":"exit","code":1,"signal":"SIGKILL","signal_number":9}`,
		`{"type":"ping","seq":18446744073709551615}`,
		`{"type":"skip","reason":"\u00e9"}`,
		`{"type":"pong","seq":1,"seq":1}`,
		`{"Type":"ack"}`,
		"\xff\xfe",
	} {
		f.Add(rawFrame(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := wire.ReadMessage(bytes.NewReader(in))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := wire.WriteMessage(&buf, m); err != nil {
			t.Fatalf("accepted message does not encode: %v", err)
		}
		m2, err := wire.ReadMessage(&buf)
		if err != nil {
			t.Fatalf("re-read of accepted message: %v", err)
		}
		if d := cmp.Diff(m, m2); d != "" {
			t.Fatalf("re-read differs (-first +second):\n%s", d)
		}
	})
}
