package proxycore

import (
	"bufio"
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// dconn is one multiplexed connection to a server. Requests from any client
// are queued on it; a writer goroutine writes everything queued in one
// batch and hands the ops to a reader goroutine, which reads the replies in
// the same order (memcached answers in order on a connection).
type dconn struct {
	srv *server

	mu    sync.Mutex
	queue []*op // written by enqueue, taken by the writer; guarded by mu
	spare []*op // the writer's second buffer, swapped with queue
	dead  bool  // guarded by mu; once set, enqueue refuses
	cause opStatus

	wake    chan struct{} // one-slot signal: the queue is non-empty
	pending chan *op      // written, awaiting their replies, in order
	conn    net.Conn      // set once connected; read by kill
	quit    chan struct{} // closed by kill

	dl          sync.Mutex // guards outstanding and the read deadline
	outstanding int        // ops handed to the reader, not yet answered
}

// maxPending bounds the ops in flight on one connection; the writer waits
// when the reader falls this far behind.
const maxPending = 4096

func newDconn(s *server) *dconn {
	d := &dconn{
		srv:     s,
		wake:    make(chan struct{}, 1),
		pending: make(chan *op, maxPending),
		quit:    make(chan struct{}),
	}
	go d.run()
	return d
}

func (d *dconn) isDead() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dead
}

// enqueue adds o to the write queue. It returns false when the connection
// has died, so that the caller can pick another.
func (d *dconn) enqueue(o *op) bool {
	d.mu.Lock()
	if d.dead {
		d.mu.Unlock()
		return false
	}
	d.queue = append(d.queue, o)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return true
}

// run connects, then starts the reader and becomes the writer.
func (d *dconn) run() {
	s := d.srv
	s.stats.inc(totDownstreamConnectStarted)
	c, err := net.DialTimeout("tcp", s.addr, s.beh.ConnectTimeout)
	if err != nil {
		s.stats.inc(totDownstreamConnectFailed)
		if errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err) {
			s.stats.inc(totDownstreamConnectTimeout)
		}
		s.logger.Warn("downstream connect failed", "server", s.addr, "err", err)
		s.noteError()
		d.kill(opConnectFailed)
		return
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	s.noteConnected()
	s.stats.inc(totDownstreamConnect)
	s.stats.inc(totDownstreamConn)
	s.stats.inc(numDownstreamConn)
	defer s.stats.dec(numDownstreamConn)
	d.mu.Lock()
	d.conn = c
	dead := d.dead
	d.mu.Unlock()
	if dead { // killed while connecting
		_ = c.Close()
		return
	}
	go d.readLoop(bufio.NewReaderSize(c, 32<<10))
	d.writeLoop(bufio.NewWriterSize(c, 32<<10))
	// An op pushed to pending while kill ran would otherwise be stranded.
	d.drainPending(d.deathCause())
}

func (d *dconn) deathCause() opStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cause
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// writeLoop writes queued ops in batches: everything queued since the last
// flush goes out in one write. Ops enter pending before their bytes are
// written, so the reader always knows whom a reply belongs to.
func (d *dconn) writeLoop(w *bufio.Writer) {
	for {
		select {
		case <-d.wake:
		case <-d.quit:
			return
		}
		d.mu.Lock()
		batch := d.queue
		d.queue = d.spare[:0]
		d.mu.Unlock()
		if !d.handOver(batch) {
			return
		}
		for _, o := range batch {
			if _, err := w.Write(o.out); err != nil {
				d.srv.logger.Warn("downstream write failed", "server", d.srv.addr, "err", err)
				d.kill(opClosed)
				return
			}
		}
		if err := w.Flush(); err != nil {
			d.srv.logger.Warn("downstream write failed", "server", d.srv.addr, "err", err)
			d.kill(opClosed)
			return
		}
		clear(batch)
		d.spare = batch[:0]
	}
}

// handOver moves a batch to pending and arms the read deadline when the
// connection was idle. It returns false when the connection died meanwhile;
// the ops not handed over are then sent elsewhere.
func (d *dconn) handOver(batch []*op) bool {
	now := time.Now()
	for i, o := range batch {
		o.sentAt = now
		select {
		case d.pending <- o:
		case <-d.quit:
			d.requeue(batch[i:])
			return false
		}
	}
	d.dl.Lock()
	if d.outstanding == 0 {
		d.armDeadline(now)
	}
	d.outstanding += len(batch)
	d.dl.Unlock()
	return true
}

// armDeadline sets the read deadline one downstream_timeout from now, or
// clears it. Called with dl held.
func (d *dconn) armDeadline(now time.Time) {
	if t := d.srv.beh.DownstreamTimeout; t > 0 {
		if now.IsZero() {
			_ = d.conn.SetReadDeadline(time.Time{})
		} else {
			_ = d.conn.SetReadDeadline(now.Add(t))
		}
	}
}

// answered notes one reply read. The deadline then measures the wait for
// the next reply from now: a server that makes no progress for
// downstream_timeout times out, one that is merely busy does not.
func (d *dconn) answered() {
	d.dl.Lock()
	d.outstanding--
	if d.outstanding == 0 {
		d.armDeadline(time.Time{})
	} else {
		d.armDeadline(time.Now())
	}
	d.dl.Unlock()
}

// requeue sends ops that were never written to another connection: they
// are safe to send again whatever the retry budget.
func (d *dconn) requeue(ops []*op) {
	for _, o := range ops {
		if o != nil {
			d.srv.submit(o)
		}
	}
}

// kill marks the connection dead, closes it and fails every op it holds.
// Ops never written go to another connection; ops written but unanswered
// are retried while their budget lasts (the server may not have seen them),
// except after a timeout, when the server is presumed stalled.
func (d *dconn) kill(cause opStatus) {
	d.mu.Lock()
	if d.dead {
		d.mu.Unlock()
		return
	}
	d.dead, d.cause = true, cause
	unsent := d.queue
	d.queue = nil
	c := d.conn
	d.mu.Unlock()
	close(d.quit)
	if c != nil {
		_ = c.Close()
	}
	d.srv.drop(d)
	if cause == opConnectFailed {
		for _, o := range unsent {
			o.status = opConnectFailed
			o.parent.opDone(o)
		}
	} else {
		d.requeue(unsent)
	}
	d.drainPending(cause)
}

// drainPending fails what the reader will no longer read. The reader
// goroutine exits when it sees quit closed, so anything left in pending is
// ours to finish.
func (d *dconn) drainPending(cause opStatus) {
	for {
		select {
		case o := <-d.pending:
			d.finishUnanswered(o, cause)
		default:
			return
		}
	}
}

func (d *dconn) finishUnanswered(o *op, cause opStatus) {
	if cause == opClosed && o.retries > 0 && !o.parent.abandoned() {
		o.retries--
		d.srv.stats.inc(totRetry)
		o.reply = o.reply[:0]
		d.srv.submit(o)
		return
	}
	o.status = cause
	o.parent.opDone(o)
}
