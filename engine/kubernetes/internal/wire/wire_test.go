package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func frame(body string) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(len(body))) // header only
}

func rawFrame(body string) []byte { return append(frame(body), body...) }

func TestRoundTrip(t *testing.T) {
	msgs := []Message{
		{Type: TypeHello, Name: "build", Version: Version, Nonce: bytes.Repeat([]byte{1}, NonceSize)},
		{Type: TypeHello, Token: "t0k", Name: "build", Version: 1},
		{Type: TypeChallenge, Version: Version, Nonce: bytes.Repeat([]byte{2}, NonceSize), Proof: bytes.Repeat([]byte{3}, NonceSize)},
		{Type: TypeAuth, Proof: bytes.Repeat([]byte{4}, NonceSize)},
		{Type: TypeWelcome, Version: 1, IntervalMS: 1000, Name: "build"},
		{Type: TypeStart},
		{Type: TypeSkip, Reason: "container build failed"},
		{Type: TypeLog, Stream: "stderr", Data: []byte("\x00\xffbinary\n")},
		{Type: TypeExit, Signal: "SIGTERM", SignalNumber: 15},
		{Type: TypeExit, Code: 3},
		{Type: TypeAck},
		{Type: TypeInterrupt, Reason: "signal SIGTERM #1"},
		{Type: TypePing, Seq: 7},
		{Type: TypePong, Seq: 7},
		{Type: TypeError, Error: "authentication failed"},
		{Type: TypeBye},
	}
	var buf bytes.Buffer
	for _, m := range msgs {
		if err := WriteMessage(&buf, m); err != nil {
			t.Fatalf("write %s: %v", m.Type, err)
		}
	}
	var got []Message
	for {
		m, err := ReadMessage(&buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		got = append(got, m)
	}
	if d := cmp.Diff(msgs, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}

func TestDecodeRefuses(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"oversized length announced", binary.BigEndian.AppendUint32(nil, maxFrame+1), ErrFrameTooLarge},
		{"length of 4 GiB", []byte{0xff, 0xff, 0xff, 0xff}, ErrFrameTooLarge},
		{"empty frame", rawFrame(""), ErrMalformed},
		{"truncated header", []byte{0, 0}, ErrMalformed},
		{"truncated body", frame(`{"type":"start"}`), ErrMalformed},
		{"not json", rawFrame("GET / HTTP/1.1\r\n"), ErrMalformed},
		{"json array", rawFrame(`[1,2]`), ErrMalformed},
		{"json null", rawFrame(`null`), ErrMalformed},
		{"no type", rawFrame(`{"seq":1}`), ErrMalformed},
		{"unknown type", rawFrame(`{"type":"exec","argv":["sh"]}`), ErrMalformed},
		{"field foreign to type", rawFrame(`{"type":"ping","token":"x"}`), ErrMalformed},
		{"unknown field", rawFrame(`{"type":"ack","env":{}}`), ErrMalformed},
		{"receipt not an object", rawFrame(`{"type":"exit","receipt":[1]}`), ErrMalformed},
		{"receipt too large", rawFrame(`{"type":"exit","receipt":{"x":"` + strings.Repeat("a", MaxReceipt) + `"}}`), ErrMalformed},
		{"duplicate key", rawFrame(`{"type":"ping","seq":1,"seq":2}`), ErrMalformed},
		{"trailing data", rawFrame(`{"type":"ack"} {"type":"ack"}`), ErrMalformed},
		{"hello without token", rawFrame(`{"type":"hello","version":1}`), ErrMalformed},
		{"hello of version 2 without nonce", rawFrame(`{"type":"hello","version":2}`), ErrMalformed},
		{"hello of version 2 with a token", rawFrame(`{"type":"hello","version":2,"token":"x","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`), ErrMalformed},
		{"hello with a short nonce", rawFrame(`{"type":"hello","version":2,"nonce":"AAAA"}`), ErrMalformed},
		{"auth without proof", rawFrame(`{"type":"auth"}`), ErrMalformed},
		{"challenge without proof", rawFrame(`{"type":"challenge","version":2,"nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`), ErrMalformed},
		{"hello without version", rawFrame(`{"type":"hello","token":"x"}`), ErrMalformed},
		{"hello with a name holding a newline", rawFrame(`{"type":"hello","token":"x","version":1,"name":"a\nb"}`), ErrMalformed},
		{"log to an unknown stream", rawFrame(`{"type":"log","stream":"tty","data":"eA=="}`), ErrMalformed},
		{"empty log", rawFrame(`{"type":"log","stream":"stdout"}`), ErrMalformed},
		{"exit code out of range", rawFrame(`{"type":"exit","code":300}`), ErrMalformed},
		{"signal name without number", rawFrame(`{"type":"exit","signal":"SIGTERM"}`), ErrMalformed},
		{"wrong field type", rawFrame(`{"type":"ping","seq":"one"}`), ErrMalformed},
		{"error without text", rawFrame(`{"type":"error"}`), ErrMalformed},
		{"error text holding a newline", rawFrame(`{"type":"exit","code":1,"error":"x\ngraceful: summary: build exited with status 0"}`), ErrMalformed},
		{"signal holding a terminal escape", rawFrame(`{"type":"exit","code":1,"signal":"SIG\u001b[2J","signal_number":9}`), ErrMalformed},
		{"reason holding a C1 control", rawFrame(`{"type":"skip","reason":"a\u009bb"}`), ErrMalformed},
		{"error text holding a bidi override", rawFrame(`{"type":"error","error":"a\u202eb"}`), ErrMalformed},
		{"error text of bad UTF-8", rawFrame("{\"type\":\"error\",\"error\":\"a\xffb\"}"), ErrMalformed},
		{"bad UTF-8 in a token", rawFrame("{\"type\":\"hello\",\"token\":\"\xc3\",\"version\":1}"), ErrMalformed},
		{"interval that overflows the liveness window", rawFrame(`{"type":"welcome","interval_ms":9223372036854775}`), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadMessage(bytes.NewReader(tt.input))
			if !errors.Is(err, tt.want) {
				t.Errorf("ReadMessage = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain text, é", "plain text, é"},
		{"a\nb\tc", `a\nb\tc`},
		{"\x1b[2J", `\x1b[2J`},
		{"a\xffb", `a\xffb`},
		{"\u202e", `\u202e`},
	} {
		got := Text(tt.in)
		if got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if err := checkText(got); err != nil {
			t.Errorf("Text(%q) = %q is refused: %v", tt.in, got, err)
		}
	}
	long := Text(strings.Repeat("\n", maxText))
	if len(long) > maxText || checkText(long) != nil || strings.HasSuffix(long, `\`) {
		t.Errorf("Text of a long text: %d bytes, ends %q", len(long), long[len(long)-4:])
	}
}

// The two proofs differ for the same nonces (neither can be replayed as
// the other) and depend on the token, both nonces and the name.
func TestProofs(t *testing.T) {
	a, b := bytes.Repeat([]byte{1}, NonceSize), bytes.Repeat([]byte{2}, NonceSize)
	base := CoordinatorProof("tok", a, b, "build")
	for name, other := range map[string][]byte{
		"join's proof":        JoinProof("tok", a, b, "build"),
		"join's, swapped":     JoinProof("tok", b, a, "build"),
		"another token":       CoordinatorProof("tok2", a, b, "build"),
		"another join nonce":  CoordinatorProof("tok", b, b, "build"),
		"another coord nonce": CoordinatorProof("tok", a, a, "build"),
		"another name":        CoordinatorProof("tok", a, b, "test"),
	} {
		if ProofEqual(base, other) {
			t.Errorf("%s equals the coordinator's proof", name)
		}
	}
	if !ProofEqual(base, CoordinatorProof("tok", a, b, "build")) || len(base) != NonceSize {
		t.Error("the proof is not a 32-byte function of its inputs")
	}
}

func TestWriteRefusesOversizedMessage(t *testing.T) {
	err := WriteMessage(io.Discard, Message{Type: TypeError, Error: strings.Repeat("x", maxFrame)})
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("WriteMessage = %v, want ErrFrameTooLarge", err)
	}
}

// The first frame's limit still takes a real hello: the longest token and
// name, every byte of them escaped.
func TestLongestHelloFitsTheHelloLimit(t *testing.T) {
	long := Message{Type: TypeHello, Token: strings.Repeat("\x01", MaxToken), Name: strings.Repeat("<", maxName), Version: 1}
	b, err := AppendFrame(nil, long)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)-4 > maxHelloFrame {
		t.Errorf("longest hello is %d bytes, over maxHelloFrame", len(b)-4)
	}
	if _, err := ReadHello(bytes.NewReader(b)); err != nil {
		t.Errorf("ReadHello refuses the longest hello: %v", err)
	}
}

// TestLivenessFramesAsEncodingJSON checks the hand-written ping and pong
// codec against encoding/json: the same bytes out, the same message (or
// the general path) in.
func TestLivenessFramesAsEncodingJSON(t *testing.T) {
	for _, typ := range []string{TypePing, TypePong} {
		for _, seq := range []uint64{0, 1, 9, 10, 99, 100, 12345, 1<<63 - 1, 1 << 63, 1<<64 - 1} {
			m := Message{Type: typ, Seq: seq}
			if !m.isLiveness() {
				t.Fatalf("%+v: not taken as liveness", m)
			}
			want, err := appendJSON([]byte("x"), m)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendLiveness([]byte("x"), m); !bytes.Equal(got, want) {
				t.Errorf("%+v: wrote %q, encoding/json %q", m, got, want)
			}
			got, ok := decodeLiveness(want[5:])
			if !ok || !cmp.Equal(got, m) {
				t.Errorf("%q: decoded %+v, %v", want[5:], got, ok)
			}
		}
	}
	for _, m := range []Message{
		{Type: TypePing, Seq: 1, Reason: "x"},
		{Type: TypePong, Data: []byte{}}, // omitempty: as liveness
		{Type: TypeAck},
		{Type: TypePing, Error: "e"},
	} {
		want, _ := appendJSON(nil, m)
		got, _ := AppendFrame(nil, m)
		if !bytes.Equal(got, want) {
			t.Errorf("%+v: AppendFrame wrote %q, encoding/json %q", m, got, want)
		}
	}
	// Anything but the canonical spelling goes to encoding/json, which
	// accepts or refuses it as it always did.
	for _, body := range []string{
		`{"type":"ping"}`, `{"type":"pong","seq":0}`, `{"type":"ping","seq":00}`,
		`{"type":"ping","seq":01}`, `{"type":"ping","seq":-1}`, `{"type":"ping","seq":1.0}`,
		`{"type":"ping","seq":18446744073709551616}`, `{"type":"ping","seq":99999999999999999999}`,
		`{"type":"ping","seq":184467440737095516150}`, `{"type":"ping","seq":}`,
		`{"type":"ping","seq":1}x`, `{"type":"ping","seq":1} `, `{"type":"ping" ,"seq":1}`,
		`{"type":"pinG","seq":1}`, `{"type":"pings"}`, `{"type":"ping","seq":1,"seq":2}`,
		`{"type":"ping","Seq":1}`, `{"type":"ping","seq":"1"}`, `{"type":"ping"}}`, `{"type":"p`,
		`{"type":"ping","seq":1e3}`, `{"type":"pong","seq":1}`,
	} {
		want, wantErr := decodeJSON([]byte(body))
		got, gotErr := decode([]byte(body))
		if !cmp.Equal(got, want) || (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
			t.Errorf("%s: decoded %+v, %v; encoding/json %+v, %v", body, got, gotErr, want, wantErr)
		}
	}
}

// FuzzLiveness: whatever the liveness decoder accepts, encoding/json
// decodes to the same message, and the encoder writes it back unchanged.
func FuzzLiveness(f *testing.F) {
	for _, s := range []string{`{"type":"ping","seq":1}`, `{"type":"pong"}`, `{"type":"ping","seq":18446744073709551615}`, `{"type":"ping","seq":0}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, ok := decodeLiveness(body)
		if !ok {
			return
		}
		want, err := decodeJSON(body)
		if err != nil || !cmp.Equal(m, want) {
			t.Fatalf("%q: liveness %+v; encoding/json %+v, %v", body, m, want, err)
		}
		if m.Seq != 0 {
			if b := appendLiveness(nil, m); !bytes.Equal(b[4:], body) {
				t.Fatalf("%q: written back as %q", body, b[4:])
			}
		}
	})
}

// TestLivenessFramesAllocateNothing: the frames exchanged every interval
// while a job runs stay off encoding/json (which allocates, and whose code
// and type data, touched every interval, kept about 2 MiB of a waiting
// join's executable resident: docs/performance.md, "Per-container cost
// (join)").
func TestLivenessFramesAllocateNothing(t *testing.T) {
	buf := make([]byte, 0, 64)
	for _, m := range []Message{{Type: TypePing, Seq: 12345}, {Type: TypePong, Seq: 1<<64 - 1}, {Type: TypePing}} {
		body, err := appendJSON(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		body = body[4:]
		var encErr, decErr error
		if n := testing.AllocsPerRun(100, func() { buf, encErr = AppendFrame(buf[:0], m) }); n != 0 || encErr != nil {
			t.Errorf("AppendFrame(%+v): %v allocations, %v", m, n, encErr)
		}
		if n := testing.AllocsPerRun(100, func() { _, decErr = decode(body) }); n != 0 || decErr != nil {
			t.Errorf("decode(%s): %v allocations, %v", body, n, decErr)
		}
	}
}
