package proxycore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/binproto"
)

// pipelineWindow is how many requests of one client may be in flight
// before its reader waits for replies to be written.
const pipelineWindow = 256

// clientConn is one client connection: a reader goroutine parsing and
// dispatching commands, and a writer goroutine writing replies in order.
type clientConn struct {
	srv   *Server
	b     *bucket
	c     net.Conn
	queue chan *request
	rd    *ascii.Reader
	br    *bufio.Reader
	// affinity picks this client's connection slot on every server.
	affinity uint32
	bw       *bufio.Writer // the writer goroutine's, or the reader's while pending is 0
	// pending counts requests handed to the writer goroutine and not yet
	// written. At zero the writer is idle, so the reader may write a
	// reply itself (answerInline).
	pending atomic.Int32
	budget  replyBudget     // bounds the reply bytes held for this client
	ctx     context.Context // done on shutdown
	// idle is client_idle_timeout: each request must be whole this long
	// after the reader starts waiting for it (armIdle); 0 for never.
	idle time.Duration
	// dead is set once moxi has closed the connection: replies are
	// dropped, and a reader waiting for budget gives up.
	dead atomic.Bool

	// Ordering around text-routed commands (text_route.go).
	inflight  atomic.Int32 // this client's dispatched requests not yet complete
	lastRoute route        // the connection kind of the last server-bound request; reader only
	drainMu   sync.Mutex
	drainWait atomic.Bool   // a drain waits for inflight to reach zero
	drained   chan struct{} // closed when it does; under drainMu
}

// serveClient serves one client accepted on port, whose listener belongs
// to bucket listener (nil on a pool's port). While no bucket has a map the
// client is closed at once, with nothing sent, as moxi does (MB-3113).
func (s *Server) serveClient(ctx context.Context, port int, listener *bucket, c net.Conn) {
	if !s.anyActive() {
		s.logger.Debug("closing client: no bucket is configured yet", "remote", c.RemoteAddr().String())
		return
	}
	if !s.handshake(ctx, c) {
		return
	}
	b := s.startBucket(port, listener)
	b.stats.inc(totUpstream)
	b.stats.inc(numUpstream)
	defer b.stats.dec(numUpstream)

	cc := &clientConn{srv: s, b: b, c: c, queue: make(chan *request, pipelineWindow),
		affinity: s.nextAffinity.Add(1), ctx: ctx}
	cc.budget.init(int64(b.beh.ClientMaxPendingBytes), int64(s.cfg.MaxItemSize))
	// On shutdown the reader stops at once, even a client that has not
	// sent its first byte: it is idle, so it is closed, not drained.
	stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Now()) })
	defer stop()
	cc.br = bufio.NewReaderSize(c, 16<<10)
	cc.idle = b.beh.ClientIdleTimeout
	cc.armIdle()
	binary, ok := cc.detectProtocol()
	if !ok {
		return
	}

	written := make(chan struct{})
	cc.bw = bufio.NewWriterSize(c, 16<<10)
	go cc.writeLoop(cc.bw, written)
	if binary {
		cc.readLoopBinary()
	} else {
		cc.rd = ascii.NewReader(cc.br, s.cfg.MaxItemSize)
		cc.readLoop()
	}
	close(cc.queue)
	<-written
}

// detectProtocol decides once per connection, as memcached does with -B
// auto: a first byte of 0x80 starts a binary client. -B ascii or binary
// forces one. ok is false when the client left before sending anything.
func (cc *clientConn) detectProtocol() (binary, ok bool) {
	switch cc.srv.cfg.Protocol {
	case "ascii":
		return false, true
	case "binary":
		return true, true
	}
	first, err := cc.br.Peek(1)
	if err != nil {
		return false, false
	}
	return first[0] == binproto.MagicRequest, true
}

func (cc *clientConn) readLoop() {
	for {
		r := getRequest(cc)
		cc.armIdle()
		err := cc.rd.Next(&r.cmd)
		if err != nil {
			var pe *ascii.Error
			if !errors.As(err, &pe) {
				if !errors.Is(err, io.EOF) && !isTimeout(err) {
					cc.srv.logger.Debug("client read failed", "remote", cc.c.RemoteAddr().String(), "err", err)
				}
				putRequest(r)
				return
			}
			r.form = formOwn
			if pe.Reply == "" {
				r.silent = true // noreply errors and silent closes
			} else {
				r.reply = append(append(r.reply, pe.Reply...), "\r\n"...)
			}
			r.close = pe.Close
			key := r.cmd.Key
			r.complete()
			if pe.DropKey {
				// Before queueing r, whose buffers the writer recycles.
				cc.dropKey(key)
			}
			cc.enqueue(r)
			if pe.Close {
				return
			}
			continue
		}
		r.replyKeys = valueKeys(&r.cmd)
		if !cc.admit(r) {
			putRequest(r)
			return
		}
		r.started = time.Now()
		cc.srv.logCommand(cc, &r.cmd)
		cc.orderForText(r)
		cc.dispatch(r)
		if took, ok := cc.answerInline(r); took {
			if !ok {
				return
			}
			continue
		}
		closing := r.close // r belongs to the writer once queued
		cc.enqueue(r)
		if closing {
			return
		}
	}
}

// enqueue hands r to the writer goroutine, which writes its reply in
// request order once it is ready.
func (cc *clientConn) enqueue(r *request) {
	cc.pending.Add(1)
	cc.queue <- r
}

// answerInline waits for r's reply and writes it on the reader's own
// goroutine when nothing else is under way: no earlier reply is waiting
// for the writer goroutine and no further request has been read. That is
// the plain request/reply client, and answering it here spares the writer
// goroutine two wake-ups per request (one for the queue, one for the
// reply). A client that pipelines keeps the writer goroutine, so its
// requests still run concurrently. took reports whether r was answered
// here; ok is false when the write failed and the connection is closed.
func (cc *clientConn) answerInline(r *request) (took, ok bool) {
	if r.close || cc.pending.Load() != 0 || cc.br.Buffered() != 0 {
		return false, true
	}
	<-r.done
	r.writeReply(cc.bw)
	cc.retire(r)
	if err := cc.bw.Flush(); err != nil {
		cc.closeConn()
		return true, false
	}
	return true, true
}

// retire ends a request whose reply has been written (or dropped): its
// latency is counted, its bytes leave the client's budget and it goes
// back to the pool.
func (cc *clientConn) retire(r *request) {
	if r.b != nil {
		r.learnValues()
		r.noteKeyStats()
		r.countCommand()
	}
	r.b.noteDone(r)
	cc.discharge(r)
	putRequest(r)
}

// closeConn closes the client connection from moxi's side, which also
// stops the reader.
func (cc *clientConn) closeConn() {
	cc.dead.Store(true)
	_ = cc.c.Close()
	cc.budget.signal()
}

// writeLoop writes each reply once it is ready, in request order, and
// flushes only when no further reply is already waiting, so pipelined
// replies share one write.
func (cc *clientConn) writeLoop(w *bufio.Writer, written chan<- struct{}) {
	defer close(written)
	broken := false
	for r := range cc.queue {
		broken = cc.writeQueued(w, r, broken)
		// Only now, with w flushed or more replies queued, may the
		// reader see the writer idle.
		cc.pending.Add(-1)
		cc.budget.signal()
	}
}

// writeQueued writes one queued reply and reports whether the connection
// is broken (or closing), after which replies are dropped.
func (cc *clientConn) writeQueued(w *bufio.Writer, r *request, broken bool) bool {
	select {
	case <-r.done:
	default:
		if w.Buffered() > 0 && !broken {
			broken = w.Flush() != nil
		}
		<-r.done
	}
	if !broken {
		r.writeReply(w)
	}
	closeAfter := r.close
	cc.retire(r)
	if closeAfter || broken {
		if !broken {
			_ = w.Flush()
		}
		cc.closeConn() // stops the reader too
		return true
	}
	if len(cc.queue) == 0 && w.Flush() != nil {
		cc.closeConn()
		return true
	}
	return false
}

// valueKeys is how many values a text command's reply may carry: its
// keys for a get, one for a meta get, none otherwise.
func valueKeys(cmd *ascii.Request) int32 {
	switch {
	case cmd.Op.IsRetrieval():
		return int32(len(cmd.Keys))
	case cmd.Op == ascii.OpMetaGet:
		return 1
	}
	return 0
}

// noteDone records a finished request's latency.
func (b *bucket) noteDone(r *request) {
	if len(r.ops) == 0 {
		if r.fromCache {
			b.latency.observe(time.Since(r.started))
		}
		return
	}
	took := time.Since(r.started)
	b.latency.observe(took)
	b.stats.inc(totCmdCount)
	b.stats.add(totCmdTime, uint64(took/time.Microsecond))
	if b.beh.TimeStats {
		b.stats.reserved.add(took)
	}
}

// dropKey deletes key from its server without a reply to the client, as
// memcached unlinks the old item when it refuses a new value as too large:
// a later get must miss, not return the stale value.
func (cc *clientConn) dropKey(key []byte) {
	if d := cc.ownRequest(append(append([]byte("delete "), key...), " noreply\r\n"...)); d != nil {
		cc.dispatch(d)
		cc.enqueue(d)
	}
}

// ownRequest parses line (a text command the proxy makes itself, always
// noreply) into a request of this client, or returns nil should it not
// parse.
func (cc *clientConn) ownRequest(line []byte) *request {
	d := getRequest(cc)
	if err := ascii.NewReader(bufio.NewReader(bytes.NewReader(line)), cc.srv.cfg.MaxItemSize).Next(&d.cmd); err != nil {
		putRequest(d)
		return nil
	}
	d.started = time.Now()
	return d
}
