package proxycore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"time"

	"github.com/moxifleet/moxi/proxycore/ascii"
	"github.com/moxifleet/moxi/proxycore/binproto"
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
}

// serveClient serves one client accepted on port, whose listener belongs
// to bucket listener (nil on a pool's port). While no bucket has a map the
// client is closed at once, with nothing sent, as moxi does (MB-3113).
func (s *Server) serveClient(ctx context.Context, port int, listener *bucket, c net.Conn) {
	if !s.anyActive() {
		s.logger.Debug("closing client: no bucket is configured yet", "remote", c.RemoteAddr().String())
		return
	}
	b := s.startBucket(port, listener)
	b.stats.inc(totUpstream)
	b.stats.inc(numUpstream)
	defer b.stats.dec(numUpstream)

	cc := &clientConn{srv: s, b: b, c: c, queue: make(chan *request, pipelineWindow),
		affinity: s.nextAffinity.Add(1)}
	cc.br = bufio.NewReaderSize(c, 16<<10)
	binary, ok := cc.detectProtocol()
	if !ok {
		return
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Now()) })
	defer stop()

	written := make(chan struct{})
	go cc.writeLoop(bufio.NewWriterSize(c, 16<<10), written)
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
			cc.queue <- r
			if pe.Close {
				return
			}
			continue
		}
		r.started = time.Now()
		cc.srv.logCommand(cc, &r.cmd)
		cc.dispatch(r)
		closing := r.close // r belongs to the writer once queued
		cc.queue <- r
		if closing {
			return
		}
	}
}

// writeLoop writes each reply once it is ready, in request order, and
// flushes only when no further reply is already waiting, so pipelined
// replies share one write.
func (cc *clientConn) writeLoop(w *bufio.Writer, written chan<- struct{}) {
	defer close(written)
	broken := false
	for r := range cc.queue {
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
		r.b.noteDone(r)
		closeAfter := r.close
		putRequest(r)
		if closeAfter || broken {
			if !broken {
				_ = w.Flush()
			}
			broken = true
			_ = cc.c.Close() // stops the reader too
			continue
		}
		if len(cc.queue) == 0 && w.Flush() != nil {
			broken = true
			_ = cc.c.Close()
		}
	}
}

// noteDone records a finished request's latency.
func (b *bucket) noteDone(r *request) {
	if len(r.ops) == 0 {
		return
	}
	b.stats.inc(totCmdCount)
	b.stats.add(totCmdTime, uint64(time.Since(r.started)/time.Microsecond))
}

// dropKey deletes key from its server without a reply to the client, as
// memcached unlinks the old item when it refuses a new value as too large:
// a later get must miss, not return the stale value.
func (cc *clientConn) dropKey(key []byte) {
	line := append(append([]byte("delete "), key...), " noreply\r\n"...)
	d := getRequest(cc)
	if err := ascii.NewReader(bufio.NewReader(bytes.NewReader(line)), 0).Next(&d.cmd); err != nil {
		putRequest(d)
		return
	}
	d.started = time.Now()
	cc.dispatch(d)
	cc.queue <- d
}
