package kubernetes

import (
	"io"
	"math/rand/v2"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// TestArbitraryBytesAfterHello sends an authenticated hello followed by
// random bytes and by mutations of valid frames to a real coordinator:
// whatever comes, it must not crash, must answer or hang up, and must close
// promptly. (A native fuzz target over real sockets stalled the fuzzing
// engine's workers, so this is a seeded random test; the decoder itself is
// fuzzed by FuzzDecode.)
func TestArbitraryBytesAfterHello(t *testing.T) {
	seeds := [][]byte{
		mustFrame(Message{Type: TypeLog, Stream: "stdout", Data: []byte("before start\n")}),
		append(mustFrame(Message{Type: TypePing, Seq: 1}), mustFrame(Message{Type: TypeExit, Code: 1})...),
		mustFrame(Message{Type: TypeHello, Token: testToken, Name: "a", Version: 1}),
		append(mustFrame(Message{Type: TypeBye}), 0xff, 0xff),
		[]byte("\x00\x00\x00\x02{}"),
		mustFrame(Message{Type: TypeExit, Signal: "SIGKILL", SignalNumber: 9}),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	dir := shortDir(t)
	hello := mustFrame(Message{Type: TypeHello, Token: testToken, Name: "a", Version: ProtocolVersion})
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
		nc.Write(append(append([]byte(nil), hello...), in...))
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
