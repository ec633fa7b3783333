//go:build linux

package kubernetes

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/kubernetes/internal/wire"
)

// admit gives an authenticated connection its place and handles the job
// container's messages until it hangs up.
func (c *Coordinator) admit(nc *net.UnixConn, hello wire.Message, who string) {
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
		case wire.TypeTerminating:
			c.terminating(i, m.Signal)
			continue
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
			// The unfinished last lines go out first (into the output
			// queue, which never blocks: a stuck stdout must never hold
			// up the exit report, nor Notify, Abandon or Close).
			c.mu.Unlock()
			c.flushOutput(c.slots[i])
			exit := engine.Exit{Code: m.Code, Signal: m.Signal, SignalNumber: m.SignalNumber, Abandoned: m.Abandoned}
			if m.Error != "" {
				exit.Err = errors.New(m.Error)
			}
			c.mu.Lock()
			if len(m.Receipt) > 0 {
				c.slots[i].receipt = append([]byte(nil), m.Receipt...)
			}
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

// output writes a log chunk to Output's queue, line by line with the
// container's name in front. Partial lines wait for their end (or the exit
// report). It never blocks on Output.
func (c *Coordinator) output(s *slot, stream string, data []byte) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	i := 0
	if stream == "stderr" {
		i = 1
	}
	s.out[i].write(c.out, s.name, data)
}

func (c *Coordinator) flushOutput(s *slot) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	for i := range s.out {
		s.out[i].flush(c.out, s.name)
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

// terminating records that the kubelet signalled job container i: the
// first such report, from any container, is a cancel trigger (see
// Coordinator.Terminating).
func (c *Coordinator) terminating(i int, sig string) {
	name := "a job container"
	if i >= 0 {
		c.mu.Lock()
		name = "container " + c.slots[i].name
		c.mu.Unlock()
	}
	c.termOnce.Do(func() {
		if c.cfg.Logf != nil {
			c.cfg.Logf("%s got %s from the kubelet: cancelling", name, sig)
		}
		c.term <- name + " terminating (" + sig + ")"
	})
}

// Terminating delivers, once, the cancel cause of the first job container
// that reports the kubelet's signal. RunCoordinator cancels the engine on
// it, as on its own SIGTERM: whichever comes first starts cancellation.
func (c *Coordinator) Terminating() <-chan string { return c.term }
