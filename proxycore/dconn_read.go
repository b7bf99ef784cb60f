package proxycore

import (
	"bufio"
	"time"
)

// readLoop reads one reply per pending op, in order. A read error or a
// timeout kills the connection; the op being read is finished here and the
// rest by kill.
func (d *dconn) readLoop(r *bufio.Reader) {
	timeout := d.srv.beh.DownstreamTimeout
	for {
		var o *op
		select {
		case o = <-d.pending:
		case <-d.quit:
			d.drainPending(d.deathCause())
			return
		}
		if timeout > 0 {
			_ = d.conn.SetReadDeadline(o.sentAt.Add(timeout))
		}
		started := r.Buffered() > 0
		err := readReply(r, o)
		if err == nil {
			o.parent.opDone(o)
			continue
		}
		d.failRead(o, err, started || len(o.reply) > 0)
		return
	}
}

// failRead handles a broken read of o: a timeout fails o (and, through
// kill, everything behind it) as timed out; a close before any reply byte
// lets o be retried; anything else fails o as closed.
func (d *dconn) failRead(o *op, err error, partial bool) {
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
		o.status = cause
		if cause == opClosed && o.kind == replyValues {
			o.status = opOK // keep the complete values already read
		}
		o.parent.opDone(o)
		return
	}
	d.finishUnanswered(o, cause)
}
