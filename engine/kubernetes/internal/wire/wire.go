// Package wire is the protocol between the kubernetes runner's coordinator
// and its join clients: the frames, their types and fields, and a strict
// codec. A frame is a 4-byte big-endian length followed by that many bytes
// of one JSON object with a "type"; docs/kubernetes.md lists the types.
//
// Nothing a peer sends can make the decoder panic or allocate more than the
// frame limit: it refuses unknown types, fields foreign to the type,
// duplicate keys, trailing data, bad UTF-8 in text fields and out-of-range
// values.
package wire

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Version is the protocol version a client sends in hello. The coordinator
// refuses any other.
//
// Version 2 authenticates both ends without sending the token: hello
// carries join's nonce, the coordinator answers with a challenge holding
// its own nonce and its proof (CoordinatorProof), and join, having checked
// that proof, answers with auth and its own (JoinProof). Version 1 sent
// the token itself in hello, to whoever listened at the socket path.
const Version = 2

// NonceSize is the length of a handshake nonce and of a proof, in bytes.
const NonceSize = 32

// Frame limits. A frame is a 4-byte big-endian length followed by that many
// bytes of one JSON object. Log chunks are cut to MaxLogChunk bytes, so a
// valid frame never comes near maxFrame; anything larger is an attack or a
// bug and ends the connection before a byte of it is read.
const (
	maxFrame    = 64 << 10 // the longest frame body
	MaxLogChunk = 16 << 10 // the most job output one log frame carries
	MaxToken    = 1024     // the longest token, in hello or a token file
	maxName     = 253      // a DNS subdomain, the longest container name
	maxText     = 1024     // the longest reason, error text or signal name
)

// MaxInterval is the longest liveness interval: a welcome announcing more
// is refused (multiplied by the misses, a huge one overflowed into a
// negative window, and the coordinator was lost at once).
const MaxInterval = time.Hour

// Message types.
const (
	TypeHello     = "hello"     // client: name, version, nonce
	TypeChallenge = "challenge" // coordinator: version, nonce, proof
	TypeAuth      = "auth"      // client: proof
	TypeWelcome   = "welcome"   // coordinator: authenticated; version, interval
	TypeStart     = "start"     // coordinator: your turn, run the job
	TypeSkip      = "skip"      // coordinator: do not run the job; reason
	TypeLog       = "log"       // client: stream, data
	TypeExit      = "exit"      // client: how the job ended
	TypeAck       = "ack"       // coordinator: exit report recorded
	TypeInterrupt = "interrupt" // coordinator: cancel the job on your timeline
	TypePing      = "ping"      // either: seq
	TypePong      = "pong"      // either: seq of the ping answered
	TypeError     = "error"     // either: text; the sender then closes
	TypeBye       = "bye"       // either: closing; from the coordinator, reason
	// TypeTerminating, client: the kubelet signalled this container
	// (signal). With native sidecars (KEP-753) the kubelet signals the
	// job containers first and the coordinator only after they exit, so
	// the coordinator cancels on the first such report.
	TypeTerminating = "terminating"
)

// Message is one frame of the protocol. Which fields a type may carry is
// fixed (see validate); a frame with a field that does not belong to its
// type is refused, so sloppy peers fail loudly instead of being half
// understood.
type Message struct {
	Type string `json:"type"`

	// hello (Token: version 1 only, refused by version 2 coordinators
	// with a clear error)
	Token   string `json:"token,omitempty"`
	Name    string `json:"name,omitempty"`
	Version int    `json:"version,omitempty"`

	// hello, challenge: the sender's fresh random nonce; challenge, auth:
	// the sender's proof that it knows the token (see Version).
	Nonce []byte `json:"nonce,omitempty"`
	Proof []byte `json:"proof,omitempty"`

	// welcome: liveness interval the client should ping at, in ms.
	IntervalMS int64 `json:"interval_ms,omitempty"`

	// log
	Stream string `json:"stream,omitempty"`
	Data   []byte `json:"data,omitempty"`

	// exit
	Code         int    `json:"code,omitempty"`
	Signal       string `json:"signal,omitempty"`
	SignalNumber int    `json:"signal_number,omitempty"`
	Abandoned    bool   `json:"abandoned,omitempty"`
	// Receipt is join's termination receipt of the job (engine.ReceiptDoc
	// as JSON, at most MaxReceipt bytes), for the pod's receipt.
	Receipt json.RawMessage `json:"receipt,omitempty"`

	// ping, pong
	Seq uint64 `json:"seq,omitempty"`

	// skip, interrupt, bye: why; error, exit: what went wrong.
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Decoding errors. ErrFrameTooLarge and ErrMalformed wrap the details.
var (
	ErrFrameTooLarge = errors.New("frame too large")
	ErrMalformed     = errors.New("malformed message")
)

// allowed lists, per type, the fields it may carry besides type.
var allowed = map[string]map[string]bool{
	TypeHello:       {"token": true, "name": true, "version": true, "nonce": true},
	TypeChallenge:   {"version": true, "nonce": true, "proof": true},
	TypeAuth:        {"proof": true},
	TypeWelcome:     {"version": true, "interval_ms": true, "name": true},
	TypeStart:       {},
	TypeSkip:        {"reason": true},
	TypeLog:         {"stream": true, "data": true},
	TypeExit:        {"code": true, "signal": true, "signal_number": true, "abandoned": true, "error": true, "receipt": true},
	TypeAck:         {},
	TypeInterrupt:   {"reason": true},
	TypePing:        {"seq": true},
	TypePong:        {"seq": true},
	TypeError:       {"error": true},
	TypeBye:         {"reason": true},
	TypeTerminating: {"signal": true},
}

// ReadMessage reads one frame from r. It never reads more than 64 KiB of
// body and never panics on any input; errors other than io.EOF (clean end
// between frames) mean the stream is unusable.
func ReadMessage(r io.Reader) (Message, error) { return readMessage(r, maxFrame) }

// ReadHello reads the first frame of a connection, the one that should be a
// hello, as ReadMessage does but with a limit of 8 KiB. It reads only that
// frame's bytes from r, so pass the connection itself, unbuffered.
func ReadHello(r io.Reader) (Message, error) { return readMessage(r, maxHelloFrame) }

// maxHelloFrame bounds the first frame of a connection, read before the
// peer is authenticated: a hello with the longest token and name, every
// byte JSON-escaped, fits. An unauthenticated peer can make the coordinator
// hold no more than this (and no buffer) for the hello timeout.
const maxHelloFrame = 8 << 10

func readMessage(r io.Reader, limit uint32) (Message, error) {
	// A slice, not an array: read through an interface, either is
	// allocated, and a [4]byte's own type descriptor would be one more
	// page touched per frame (see the liveness frames below).
	hdr := make([]byte, 4)
	if _, err := io.ReadFull(r, hdr); err != nil {
		if err == io.ErrUnexpectedEOF {
			return Message{}, fmt.Errorf("%w: truncated frame header", ErrMalformed)
		}
		return Message{}, err
	}
	n := binary.BigEndian.Uint32(hdr)
	if n > limit {
		return Message{}, fmt.Errorf("%w: %d bytes (limit %d)", ErrFrameTooLarge, n, limit)
	}
	if n == 0 {
		return Message{}, fmt.Errorf("%w: empty frame", ErrMalformed)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return Message{}, fmt.Errorf("%w: truncated frame", ErrMalformed)
		}
		return Message{}, err
	}
	return decode(body)
}

// decode parses and validates one frame body.
func decode(body []byte) (Message, error) {
	if m, ok := decodeLiveness(body); ok {
		return m, nil
	}
	return decodeJSON(body)
}

// decodeJSON is decode for any frame, with encoding/json.
func decodeJSON(body []byte) (Message, error) {
	// encoding/json turns bad UTF-8 into U+FFFD without a word; a peer
	// sending it is refused instead.
	if !utf8.Valid(body) {
		return Message{}, fmt.Errorf("%w: not UTF-8", ErrMalformed)
	}
	// First pass: the set of keys, so that fields foreign to the type and
	// duplicate keys are refused (encoding/json would silently accept
	// both).
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if raw == nil {
		return Message{}, fmt.Errorf("%w: not an object", ErrMalformed)
	}
	var typ string
	if t, ok := raw["type"]; !ok || json.Unmarshal(t, &typ) != nil {
		return Message{}, fmt.Errorf("%w: no type", ErrMalformed)
	}
	fields, ok := allowed[typ]
	if !ok {
		return Message{}, fmt.Errorf("%w: unknown type %.40q", ErrMalformed, typ)
	}
	for k := range raw {
		if k != "type" && !fields[k] {
			return Message{}, fmt.Errorf("%w: field %.40q not allowed in %s", ErrMalformed, k, typ)
		}
	}
	if err := checkDuplicateKeys(body, len(raw)); err != nil {
		return Message{}, err
	}
	var m Message
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return Message{}, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	if err := m.validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// checkDuplicateKeys counts the top-level keys with a token scan; a count
// above the map's size means a key was repeated.
func checkDuplicateKeys(body []byte, unique int) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	keys := 0
	for dec.More() {
		if _, err := dec.Token(); err != nil { // key
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		keys++
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	}
	if keys != unique {
		return fmt.Errorf("%w: duplicate key", ErrMalformed)
	}
	return nil
}

func (m Message) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrMalformed, m.Type, fmt.Sprintf(format, args...))
	}
	for _, s := range []string{m.Reason, m.Error, m.Signal} {
		if len(s) > maxText {
			return bad("text field longer than %d bytes", maxText)
		}
		if err := checkText(s); err != nil {
			return bad("%v", err)
		}
	}
	switch m.Type {
	case TypeHello:
		if m.Version <= 0 {
			return bad("version missing")
		}
		if m.Version == 1 {
			// The old shape, decoded only to be refused clearly.
			if m.Token == "" || len(m.Token) > MaxToken || m.Nonce != nil {
				return bad("version 1 needs a token of at most %d bytes and no nonce", MaxToken)
			}
		} else if m.Token != "" || len(m.Nonce) != NonceSize {
			return bad("needs a nonce of %d bytes and no token", NonceSize)
		}
		if err := CheckName(m.Name); err != nil {
			return bad("%v", err)
		}
	case TypeChallenge:
		if m.Version <= 0 || len(m.Nonce) != NonceSize || len(m.Proof) != NonceSize {
			return bad("needs a version, a nonce and a proof of %d bytes", NonceSize)
		}
	case TypeAuth:
		if len(m.Proof) != NonceSize {
			return bad("needs a proof of %d bytes", NonceSize)
		}
	case TypeWelcome:
		if m.IntervalMS < 0 || m.IntervalMS > MaxInterval.Milliseconds() {
			return bad("interval_ms %d out of range 0-%d", m.IntervalMS, MaxInterval.Milliseconds())
		}
		if err := CheckName(m.Name); err != nil {
			return bad("%v", err)
		}
	case TypeLog:
		if m.Stream != "stdout" && m.Stream != "stderr" {
			return bad("stream must be stdout or stderr")
		}
		if len(m.Data) == 0 || len(m.Data) > MaxLogChunk {
			return bad("data must hold 1 to %d bytes", MaxLogChunk)
		}
	case TypeExit:
		if m.Code < 0 || m.Code > 255 {
			return bad("code %d out of range 0-255", m.Code)
		}
		if m.SignalNumber < 0 || m.SignalNumber > 64 || (m.Signal == "") != (m.SignalNumber == 0) {
			return bad("signal and signal_number must be given together, 1-64")
		}
		if len(m.Receipt) > MaxReceipt || (len(m.Receipt) > 0 && (m.Receipt[0] != '{' || !json.Valid(m.Receipt))) {
			return bad("receipt must be a JSON object of at most %d bytes", MaxReceipt)
		}
	case TypeError:
		if m.Error == "" {
			return bad("error text missing")
		}
	case TypeTerminating:
		if !strings.HasPrefix(m.Signal, "SIG") || len(m.Signal) > 16 {
			return bad("signal must name a signal (SIGTERM)")
		}
	}
	return nil
}

// NewNonce returns NonceSize fresh random bytes.
func NewNonce() []byte {
	b := make([]byte, NonceSize)
	if _, err := rand.Read(b); err != nil {
		panic("wire: no randomness: " + err.Error()) // crypto/rand does not fail on Linux
	}
	return b
}

// CoordinatorProof is the coordinator's proof, in its challenge, that it
// knows token: HMAC-SHA256 keyed with the token over a label naming the
// coordinator's role, join's nonce, the coordinator's nonce and the name
// join gave in hello.
func CoordinatorProof(token string, joinNonce, coordNonce []byte, name string) []byte {
	return proof(token, "graceful kubernetes v2: coordinator", joinNonce, coordNonce, name)
}

// JoinProof is join's proof, in auth, that it knows token: as
// CoordinatorProof with join's label and the nonces the other way round,
// so neither proof can be replayed as the other.
func JoinProof(token string, joinNonce, coordNonce []byte, name string) []byte {
	return proof(token, "graceful kubernetes v2: join", coordNonce, joinNonce, name)
}

func proof(token, label string, first, second []byte, name string) []byte {
	h := hmac.New(sha256.New, []byte(token))
	// The label ends with a NUL and the nonces are of fixed length, so
	// the fields cannot run into each other.
	h.Write([]byte(label))
	h.Write([]byte{0})
	h.Write(first)
	h.Write(second)
	h.Write([]byte(name))
	return h.Sum(nil)
}

// ProofEqual compares two proofs in constant time.
func ProofEqual(got, want []byte) bool { return hmac.Equal(got, want) }

// MaxReceipt bounds the receipt an exit report may carry.
const MaxReceipt = 32 << 10

// CheckName accepts container names: empty (hello: let the coordinator
// name it) or printable ASCII without spaces, up to 253 bytes (a DNS
// subdomain, the longest container name).
func CheckName(s string) error {
	if len(s) > maxName {
		return fmt.Errorf("name longer than %d bytes", maxName)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return errors.New("name must be printable ASCII without spaces")
		}
	}
	return nil
}

// AppendFrame appends m's frame (header and body) to b.
func AppendFrame(b []byte, m Message) ([]byte, error) {
	if m.isLiveness() {
		return appendLiveness(b, m), nil
	}
	return appendJSON(b, m)
}

// appendJSON is AppendFrame for any message, with encoding/json.
func appendJSON(b []byte, m Message) ([]byte, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return b, err
	}
	if len(body) > maxFrame {
		return b, fmt.Errorf("%w: %s message of %d bytes", ErrFrameTooLarge, m.Type, len(body))
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
	return append(b, body...), nil
}

// WriteMessage writes m as one frame with a single Write, so frames from
// different goroutines sharing a lock never interleave.
func WriteMessage(w io.Writer, m Message) error {
	b, err := AppendFrame(nil, m)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// checkText refuses what a text field (reason, error, signal) must not
// hold: the coordinator prints these, and a newline, a terminal escape or
// a bidirectional override in them could forge or hide its log lines.
// Every rune must be printable (unicode.IsPrint: letters, marks, numbers,
// punctuation, symbols and the ASCII space).
func checkText(s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return errors.New("text field not UTF-8")
			}
		}
		if !unicode.IsPrint(r) {
			return fmt.Errorf("text field holds the non-printable character %U", r)
		}
	}
	return nil
}

// Text makes s fit a frame's text field: every non-printable character
// and every byte of bad UTF-8 escaped as strconv.Quote would ("\n",
// "\x1b", "\u202e"), then cut to the length the decoder accepts,
// never inside an escape or a character.
func Text(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				if b.Len()+4 > maxText {
					break
				}
				fmt.Fprintf(&b, "\\x%02x", s[i])
				continue
			}
		}
		var piece string
		if unicode.IsPrint(r) {
			piece = string(r)
		} else {
			q := strconv.QuoteRune(r)
			piece = q[1 : len(q)-1]
		}
		if b.Len()+len(piece) > maxText {
			break
		}
		b.WriteString(piece)
	}
	return b.String()
}

// ErrorText is err's text as a frame's text field holds it (an error
// reply, a reason): see Text.
func ErrorText(err error) string { return Text(err.Error()) }

// Liveness frames (ping and pong carrying at most a seq) are all a
// connection carries while its job runs without output: each side pings
// every interval and answers the other's ping. They are encoded and
// decoded by hand, byte for byte as encoding/json does, so that a join or
// coordinator that mostly waits does not run encoding/json and reflect
// every interval: that code and the type data it reads are spread over the
// executable, and the kernel maps each page touched back in with its
// neighbours (fault-around, 64 KiB at a time): about 2 MiB of resident set
// that the page trim (internal/resident) had just given back, plus heap
// garbage growing at about 10 KiB a second until the next collection.
// Any other message, and a ping or pong spelt any other way, takes the
// general path, which accepts and refuses exactly as before.

// isLiveness reports whether m is a ping or pong with no field but seq.
func (m Message) isLiveness() bool {
	return (m.Type == TypePing || m.Type == TypePong) &&
		m.Token == "" && m.Name == "" && m.Version == 0 &&
		len(m.Nonce) == 0 && len(m.Proof) == 0 && m.IntervalMS == 0 &&
		m.Stream == "" && len(m.Data) == 0 &&
		m.Code == 0 && m.Signal == "" && m.SignalNumber == 0 && !m.Abandoned &&
		len(m.Receipt) == 0 && m.Reason == "" && m.Error == ""
}

// appendLiveness appends the frame of a liveness message: the bytes
// json.Marshal gives, {"type":"ping","seq":N} ("seq" omitted when zero).
func appendLiveness(b []byte, m Message) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0) // the length, once known
	if m.Type == TypePong {
		b = append(b, `{"type":"pong"`...)
	} else {
		b = append(b, `{"type":"ping"`...)
	}
	if m.Seq != 0 {
		b = append(b, `,"seq":`...)
		// By hand: strconv's table of two-digit strings would be one
		// more page of the executable touched every interval.
		var d [20]byte
		i := len(d)
		for v := m.Seq; v > 0; v /= 10 {
			i--
			d[i] = byte('0' + v%10)
		}
		b = append(b, d[i:]...)
	}
	b = append(b, '}')
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b
}

// decodeLiveness decodes body when it is a liveness frame exactly as
// appendLiveness writes it: {"type":"ping"} or {"type":"ping","seq":N}
// (or pong), N a decimal without leading zeros that fits a uint64. It
// reports false for anything else, which the general decoder then judges.
// (The constants are compared whole: the compiler does that with
// immediates, no read of the executable's string data.)
func decodeLiveness(body []byte) (Message, bool) {
	const ping, pong, seqKey = `{"type":"ping"`, `{"type":"pong"`, `,"seq":`
	n := len(body)
	if n < len(ping)+1 || body[n-1] != '}' {
		return Message{}, false
	}
	var m Message
	switch {
	case string(body[:len(ping)]) == ping:
		m.Type = TypePing
	case string(body[:len(pong)]) == pong:
		m.Type = TypePong
	default:
		return Message{}, false
	}
	rest := body[len(ping) : n-1]
	if len(rest) == 0 {
		return m, true
	}
	if len(rest) <= len(seqKey) || string(rest[:len(seqKey)]) != seqKey {
		return Message{}, false
	}
	digits := rest[len(seqKey):]
	// No sign, no leading zero, no more than a uint64 holds: the general
	// decoder refuses or reads differently what falls outside. By hand,
	// as strconv.ParseUint would want the digits as a string, allocated.
	if digits[0] == '0' && len(digits) > 1 {
		return Message{}, false
	}
	var seq uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return Message{}, false
		}
		d := uint64(c - '0')
		if seq > (math.MaxUint64-d)/10 {
			return Message{}, false
		}
		seq = seq*10 + d
	}
	m.Seq = seq
	return m, true
}
