//go:build linux

package kubernetes

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/graceful-sh/graceful/engine/kubernetes/internal/wire"
)

// Liveness defaults. Each side pings at Interval from its writer goroutine
// and declares the other lost after Misses intervals without any frame; a
// closed connection is noticed at once.
const (
	DefaultInterval = time.Second
	DefaultMisses   = 3
)

// ErrLost is the cause recorded when the peer stayed silent too long.
var ErrLost = errors.New("peer lost: no message within the liveness window")

// peer is one end of an authenticated connection. Two goroutines own it:
// the reader (the caller of read) and the writer started by start. Liveness
// lives entirely on these two, never on anything the job does: the writer
// pings on a ticker however busy the reader is, and any frame received
// counts as a sign of life.
type peer struct {
	nc        *net.UnixConn
	rd        *bufio.Reader
	interval  time.Duration
	lostAfter time.Duration

	// ctl carries control frames (welcome, start, interrupt, ack, ping,
	// pong, error); data carries the ordered job stream (log, exit, bye),
	// which may block the producer when the socket is full. The writer
	// prefers ctl, so an interrupt or a pong never waits behind log data.
	ctl  chan outFrame
	data chan outFrame

	// direct peers (the coordinator's side) write control frames from the
	// sender's goroutine at once; see send.
	direct bool
	wmu    sync.Mutex // serialises writes to nc

	done      chan struct{}
	closeOnce sync.Once
	mu        sync.Mutex
	err       error
}

type outFrame struct {
	m          wire.Message
	closeAfter bool
	sent       chan error // optional: result of the write
}

func newPeer(nc *net.UnixConn, interval, lostAfter time.Duration) *peer {
	p := &peer{
		nc:        nc,
		interval:  interval,
		lostAfter: lostAfter,
		ctl:       make(chan outFrame, 64),
		data:      make(chan outFrame, 16),
		done:      make(chan struct{}),
	}
	p.rd = bufio.NewReaderSize(liveReader{p}, 8<<10)
	return p
}

// liveReader reads the connection for the peer's buffer. A read deadline
// that has passed while bytes were already waiting in the socket means we
// were slow to look (this process was stalled: CPU throttling, a long
// pause), not that the peer fell silent: Go fails a read whose deadline
// has passed without looking at the socket. The bytes are read, and the
// liveness window starts again from them.
type liveReader struct{ p *peer }

func (r liveReader) Read(b []byte) (int, error) {
	n, err := r.p.nc.Read(b)
	if n == 0 && errors.Is(err, os.ErrDeadlineExceeded) && pendingBytes(r.p.nc) > 0 {
		_ = r.p.nc.SetReadDeadline(time.Time{}) // they are there: no wait
		n, err = r.p.nc.Read(b)
		_ = r.p.nc.SetReadDeadline(time.Now().Add(r.p.lostAfter))
	}
	return n, err
}

// pendingBytes is the number of bytes waiting in c's receive queue.
func pendingBytes(c *net.UnixConn) int {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	_ = rc.Control(func(fd uintptr) {
		n, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ)
	})
	return n
}

// start runs the writer goroutine.
func (p *peer) start() { go p.writer() }

// directWriteTimeout bounds a direct write. The coordinator only ever
// sends small control frames, so a write can block only when the client has
// stopped reading altogether; it is then closed (and so lost).
const directWriteTimeout = 100 * time.Millisecond

// send sends a control frame without waiting for the peer.
//
// On a direct peer (the coordinator's end) the frame is written at once by
// the caller: when the engine notifies interrupt, the frames to all job
// containers leave in one burst from one goroutine, before the woken
// clients compete with the coordinator for the CPU (one writer goroutine
// per connection spread the 16th write over milliseconds). Otherwise the
// frame is queued for the writer goroutine, and a peer that lets 64 control
// frames pile up is not reading and is closed.
func (p *peer) send(m wire.Message) {
	if p.direct {
		p.writeNow(m)
		return
	}
	select {
	case p.ctl <- outFrame{m: m}:
	case <-p.done:
	default:
		if m.Type == wire.TypePong {
			// Our writer is stuck behind job output the peer has not
			// taken yet (its stdout is slow): the peer is alive, and a
			// pong is only a sign of life, of which the queue holds
			// plenty. Dropping it is not losing anything.
			return
		}
		p.close(errors.New("peer not reading: control queue full"))
	}
}

// sendClose queues m and closes the connection once it is written: the
// error reply before hanging up.
func (p *peer) sendClose(m wire.Message) {
	if p.direct {
		if p.writeNow(m) {
			p.close(nil)
		}
		return
	}
	select {
	case p.ctl <- outFrame{m: m, closeAfter: true}:
	case <-p.done:
	default:
		p.close(errors.New("peer not reading: control queue full"))
	}
}

// sendData queues a frame of the ordered stream, waiting while the socket
// is full. It returns the write's result when wait is set, and an error
// when the connection is gone or stop is closed first (nil stop: no limit).
func (p *peer) sendData(m wire.Message, wait bool, stop <-chan struct{}) error {
	f := outFrame{m: m}
	if wait {
		f.sent = make(chan error, 1)
	}
	select {
	case p.data <- f:
	case <-p.done:
		return p.cause()
	case <-stop:
		return errStopped
	}
	if !wait {
		return nil
	}
	select {
	case err := <-f.sent:
		return err
	case <-p.done:
		return p.cause()
	case <-stop:
		return errStopped
	}
}

var errStopped = errors.New("gave up waiting for the coordinator to read")

// writeNow writes m under the write lock with directWriteTimeout; it
// reports whether it was written, and closes the connection otherwise.
func (p *peer) writeNow(m wire.Message) bool {
	b, err := wire.AppendFrame(nil, m)
	if err != nil {
		p.close(fmt.Errorf("encode %s: %w", m.Type, err))
		return false
	}
	select {
	case <-p.done:
		return false
	default:
	}
	p.wmu.Lock()
	_ = p.nc.SetWriteDeadline(time.Now().Add(directWriteTimeout))
	_, err = p.nc.Write(b)
	p.wmu.Unlock()
	if err != nil {
		p.close(fmt.Errorf("write %s: %w", m.Type, err))
		return false
	}
	return true
}

func (p *peer) writer() {
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	var seq uint64
	buf := make([]byte, 0, 4<<10)
	// batch is reused, as buf is: a ping every interval allocates
	// nothing (see wire's liveness frames).
	batch := make([]outFrame, 0, 32)
	for {
		clear(batch) // no frame or channel kept alive by the last batch
		batch = batch[:0]
		select {
		case f := <-p.ctl:
			batch = append(batch, f)
		case f := <-p.data:
			batch = append(batch, f)
		case <-tick.C:
			seq++
			batch = append(batch, outFrame{m: wire.Message{Type: wire.TypePing, Seq: seq}})
		case <-p.done:
			return
		}
		// Coalesce what else is queued into one write, control first.
	drain:
		for len(batch) < 32 {
			select {
			case f := <-p.ctl:
				batch = append(batch, f)
				continue
			default:
			}
			select {
			case f := <-p.data:
				batch = append(batch, f)
			default:
				break drain
			}
		}
		buf = buf[:0]
		closeAfter := false
		for _, f := range batch {
			var err error
			if buf, err = wire.AppendFrame(buf, f.m); err != nil {
				p.close(fmt.Errorf("encode %s: %w", f.m.Type, err))
				return
			}
			closeAfter = closeAfter || f.closeAfter
		}
		// No write deadline on a client's writes: a coordinator that is
		// slow to read (its stdout is slow, the job floods output) is
		// alive as long as frames keep arriving, and a dead one is
		// noticed by read's deadline, which closes the connection and so
		// ends a blocked Write. The coordinator's end sends only small
		// control frames, which block only when the client stopped
		// reading.
		p.wmu.Lock()
		if p.direct {
			_ = p.nc.SetWriteDeadline(time.Now().Add(directWriteTimeout))
		}
		_, err := p.nc.Write(buf)
		p.wmu.Unlock()
		for _, f := range batch {
			if f.sent != nil {
				f.sent <- err
			}
		}
		if err != nil {
			p.close(fmt.Errorf("write: %w", err))
			return
		}
		if closeAfter {
			p.close(nil)
			return
		}
	}
}

// read returns the next frame, failing with ErrLost when none arrives
// within the liveness window. Only the reader goroutine calls it.
func (p *peer) read() (wire.Message, error) {
	_ = p.nc.SetReadDeadline(time.Now().Add(p.lostAfter))
	m, err := wire.ReadMessage(p.rd)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = ErrLost
		}
		select {
		case <-p.done: // we hung up ourselves; keep our reason
			if c := p.cause(); c != nil {
				err = c
			}
		default:
		}
		return wire.Message{}, err
	}
	return m, nil
}

// close ends the connection once; err (nil for an orderly end) is kept as
// the cause.
func (p *peer) close(err error) {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
		p.nc.Close()
	})
}

func (p *peer) cause() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		return net.ErrClosed
	}
	return p.err
}
