package proxycore

import (
	"bufio"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// dconn is one multiplexed connection to a server. Requests from any client
// are queued on it and written in batches; a reader goroutine reads the
// replies in the same order (memcached answers in order on a connection).
//
// There is no writer goroutine: the goroutine that queues an op on an idle
// connection becomes the writer and writes whatever is queued, including
// ops other clients queue meanwhile, until the queue is empty. That saves
// a goroutine wakeup per batch on the request path, and batching still
// happens because concurrent clients only append while a write is running.
type dconn struct {
	srv *downstream

	mu    sync.Mutex
	queue []*op // written by enqueue, taken by the writer; guarded by mu
	spare []*op // the writer's second buffer, swapped with queue
	dead  bool  // guarded by mu; once set, enqueue refuses
	cause opStatus
	// writing is set while some goroutine owns the write side; guarded by
	// mu. The connecting goroutine owns it until the connection is up.
	writing bool
	w       *bufio.Writer // used only by the goroutine that set writing

	pending chan *op      // written, awaiting their replies, in order
	conn    net.Conn      // set once connected; read by kill
	quit    chan struct{} // closed by kill

	scratch []byte // the reader's buffer for one binary response
	lineOps []*op  // the reader's ops of one shared get line, reused

	// dl orders arming the read deadline against the reader's decisions
	// to extend or clear it (dconn_deadline.go).
	dl          sync.Mutex
	outstanding atomic.Int32 // ops handed to the reader, not yet answered
	epoch       time.Time    // times below are monotonic ns since epoch
	armedAt     int64        // the last arming from idle; guarded by dl
	lastRead    atomic.Int64 // the last read that returned bytes
}

// maxPending bounds the ops in flight on one connection; the writer waits
// when the reader falls this far behind.
const maxPending = 4096

func newDconn(s *downstream) *dconn {
	d := &dconn{
		srv:     s,
		writing: true,
		pending: make(chan *op, maxPending),
		quit:    make(chan struct{}),
		epoch:   time.Now(),
	}
	go d.run()
	return d
}

func (d *dconn) isDead() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dead
}

// enqueue adds o to the write queue. It returns ok=false when the
// connection has died, so that the caller can pick another. claimed=true
// means the connection was idle and the caller now owns its write side:
// it must call writeQueued (after queueing whatever else it has).
func (d *dconn) enqueue(o *op) (ok, claimed bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dead {
		return false, false
	}
	d.queue = append(d.queue, o)
	if d.writing {
		return true, false // the current writer will pick it up
	}
	d.writing = true
	return true, true
}

// run connects, then starts the reader and becomes the writer.
func (d *dconn) run() {
	s := d.srv
	s.stats.inc(totDownstreamConnectStarted)
	dialed := time.Now()
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
	if c, err = s.secure(c, dialed); err != nil {
		s.stats.inc(totDownstreamConnectFailed)
		s.logger.Warn("downstream TLS handshake failed", "server", s.addr, "err", err)
		s.noteError()
		d.kill(opConnectFailed)
		return
	}
	if s.beh.TimeStats {
		s.stats.connect.add(time.Since(dialed))
	}
	pr := &progressReader{d: d, c: c}
	br := bufio.NewReaderSize(pr, 32<<10)
	if err := d.srv.codec.login(d, c, br); err != nil {
		s.logger.Warn("downstream auth failed", "server", s.addr, "err", err)
		_ = c.Close()
		s.noteError()
		d.kill(opConnectFailed)
		return
	}
	s.noteConnected()
	s.stats.inc(totDownstreamConnect)
	s.stats.inc(totDownstreamConn)
	d.mu.Lock()
	dead := d.dead
	if !dead {
		d.conn = c
		s.stats.inc(numDownstreamConn) // kill decrements it
		s.ss.conns.Add(1)
	}
	d.mu.Unlock()
	if dead { // killed while connecting
		_ = c.Close()
		return
	}
	// The auth deadline is done with; the reader's own rules apply.
	pr.watch = s.beh.DownstreamTimeout > 0
	go d.readLoop(br)
	d.w = bufio.NewWriterSize(c, 32<<10)
	d.writeQueued() // what queued up while connecting
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

// writeQueued writes queued ops in batches until the queue is empty, then
// gives up the write side. Only the goroutine that set writing calls it.
// Ops enter pending before their bytes are written, so the reader always
// knows whom a reply belongs to.
func (d *dconn) writeQueued() {
	for {
		d.mu.Lock()
		batch := d.queue
		if len(batch) == 0 || d.dead {
			d.writing = false
			d.mu.Unlock()
			return
		}
		d.queue = d.spare[:0]
		d.mu.Unlock()
		if !d.writeBatch(batch) {
			// An op handed over while kill ran would otherwise be stranded.
			d.drainPending(d.deathCause())
			return
		}
		clear(batch)
		d.spare = batch[:0]
	}
}

// writeBatch hands a batch to the reader and writes it in one flush. It
// returns false when the connection died.
func (d *dconn) writeBatch(batch []*op) bool {
	d.srv.codec.prepare(batch) // before handOver, which publishes the ops to the reader
	if !d.handOver(batch) {
		return false
	}
	for i := 0; i < len(batch); i++ {
		o := batch[i]
		var err error
		if o.group > 1 {
			err = writeGetLine(d.w, batch[i:i+o.group])
			i += o.group - 1
		} else {
			_, err = d.w.Write(o.out)
		}
		if err != nil {
			d.srv.logger.Warn("downstream write failed", "server", d.srv.addr, "err", err)
			d.kill(opClosed)
			return false
		}
	}
	if err := d.w.Flush(); err != nil {
		d.srv.logger.Warn("downstream write failed", "server", d.srv.addr, "err", err)
		d.kill(opClosed)
		return false
	}
	return !d.isDead()
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
	if d.outstanding.Load() == 0 {
		d.armDeadline(now)
	}
	d.outstanding.Add(int32(len(batch)))
	d.dl.Unlock()
	return true
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
		d.srv.stats.dec(numDownstreamConn)
		d.srv.ss.conns.Add(-1)
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
	if cause == opClosed && o.retries > 0 {
		o.retries--
		d.srv.stats.inc(totRetry)
		o.reply = o.reply[:0]
		d.srv.submit(o)
		return
	}
	o.status = cause
	o.parent.opDone(o)
}
