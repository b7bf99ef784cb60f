package proxycore

import (
	"bufio"
	"time"
)

// readLoop reads one reply per pending op, in order. It waits for bytes
// before taking the op, so an idle connection that the server closes is
// noticed at once and dropped, rather than found dead by the next request.
func (d *dconn) readLoop(r *bufio.Reader) {
	for {
		_, err := r.Peek(1)
		var o *op
		select {
		case o = <-d.pending:
		default:
		}
		if err != nil {
			d.failRead(o, err, false)
			return
		}
		if o == nil {
			d.srv.logger.Warn("downstream sent bytes nobody asked for; closing", "server", d.srv.addr)
			d.kill(opClosed)
			return
		}
		if o.group > 1 {
			if !d.readGetLine(r, o) {
				return
			}
			continue
		}
		if err := d.read(r, o); err != nil {
			d.failRead(o, err, true)
			return
		}
		d.answered()
		o.parent.opDone(o)
	}
}

// failRead handles a broken read of o: a timeout fails o (and, through
// kill, everything behind it) as timed out; a close before any reply byte
// lets o be retried; anything else fails o as closed.
func (d *dconn) failRead(o *op, err error, partial bool) {
	if o == nil { // idle: the server closed or the proxy is shutting down
		d.kill(opClosed)
		return
	}
	cause := opClosed
	if isTimeout(err) {
		cause = opTimeout
		d.srv.stats.inc(totDownstreamTimeout)
		d.srv.logger.Warn("downstream timeout", "server", d.srv.addr, "after", time.Since(o.sentAt))
	} else {
		d.srv.logger.Info("downstream closed", "server", d.srv.addr, "err", err)
		d.srv.noteError()
	}
	d.kill(cause)
	if partial {
		finishPartial(o, cause)
		return
	}
	d.finishUnanswered(o, cause)
}

// finishPartial ends an op whose reply was cut off by cause.
func finishPartial(o *op, cause opStatus) {
	o.status = cause
	if cause == opClosed && (o.kind == replyValues || o.kind == replyBinValues) {
		o.status = opOK // keep the complete values already read
	}
	o.parent.opDone(o)
}

// read reads o's reply with the connection's codec.
func (d *dconn) read(r *bufio.Reader, o *op) error { return d.srv.codec.read(r, o, &d.scratch) }
