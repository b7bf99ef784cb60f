package proxycore

import (
	"bufio"
	"bytes"

	"github.com/moxifleet/moxi/internal/ascii"
)

// replyForm is the kind of reply a request has, which writeReply
// renders. Dispatch sets the form its command relays (textForm, or
// formBinary); whatever builds the reply itself (a local command, an
// error, a translation, a merge) makes it formOwn. silent, the client's
// noreply or quiet, is apart from it: it hides any form.
type replyForm uint8

const (
	formLine   replyForm = iota // text: the first op's reply, as the server sent it
	formValues                  // text retrieval: the slots' VALUE blocks, then END
	formBinary                  // binary: one response as it came, or a quiet group in request order
	formOwn                     // r.reply, built by the proxy
)

// textForm is the form a text command's relayed reply takes.
func textForm(op ascii.Op) replyForm {
	if op.IsRetrieval() {
		return formValues
	}
	return formLine
}

// writeReply writes r's reply to the client, if it gets one. A text get
// that sent nothing (a gat with no key, keys no server owns) still ends
// with END, as memcached's does.
func (r *request) writeReply(w *bufio.Writer) {
	if r.silent {
		return
	}
	switch r.form {
	case formOwn:
		_, _ = w.Write(r.reply)
	case formBinary:
		if len(r.ops) > 0 || r.quiet > 0 {
			r.writeBinary(w)
		}
	case formValues:
		r.writeValues(w)
	case formLine:
		if len(r.ops) > 0 {
			_, _ = w.Write(r.ops[0].reply)
		}
	}
}

// finishSingle turns a failed single-key exchange into moxi's error reply;
// a successful one is written from the op's reply as it came.
func finishSingle(r *request) {
	o := r.ops[0]
	if o.status != opOK {
		r.form = formOwn
		r.reply = appendDownstreamError(r.reply, o)
	}
}

// appendDownstreamError appends moxi's reply for a failed exchange, naming
// the server's host (never its port or credentials).
func appendDownstreamError(dst []byte, o *op) []byte {
	switch o.status {
	case opTimeout:
		dst = append(dst, "SERVER_ERROR proxy downstream timeout "...)
	case opClosed:
		dst = append(dst, "SERVER_ERROR proxy downstream closed "...)
	default:
		dst = append(dst, "SERVER_ERROR proxy write to downstream "...)
	}
	return append(append(dst, o.server.host...), "\r\n"...)
}

// finishFirstLine answers a broadcast whose servers each reply one line
// (flush_all, stats reset): the first server's answer, or moxi's error
// when no server answered.
func finishFirstLine(r *request) {
	r.form = formOwn
	for _, o := range r.ops {
		if o.status == opOK {
			r.reply = append(r.reply, o.reply...)
			return
		}
	}
	r.reply = appendDownstreamError(r.reply, r.ops[0])
}

// finishStats merges the STAT lines of every server that answered.
func finishStats(r *request) {
	r.form = formOwn
	var m statsMerger
	answered := false
	for _, o := range r.ops {
		if o.status != opOK {
			continue
		}
		if !bytes.HasPrefix(o.reply, []byte("STAT ")) && !bytes.Equal(o.reply, lineEND) {
			r.reply = append(r.reply, o.reply...) // ERROR and friends pass through
			return
		}
		answered = true
		m.addReply(o.reply)
	}
	if !answered {
		r.reply = appendDownstreamError(r.reply, r.ops[0])
		return
	}
	r.reply = m.appendTo(r.reply)
	r.reply = append(r.reply, lineEND...)
}
