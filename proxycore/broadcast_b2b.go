package proxycore

import (
	"bytes"

	"github.com/moxifleet/moxi/internal/binproto"
)

// broadcastB2B sends FLUSH (FLUSHQ as a plain FLUSH, so that every server
// answers) or STAT to every server. The client gets one reply: a success
// header for FLUSH, the merged statistics for STAT.
func (cc *clientConn) broadcastB2B(r *request, rt *routing) {
	kind := replyBinStats
	r.finish = finishStatsB2B
	if r.bin.Opcode != binproto.OpStat {
		kind, r.finish = replyBinOne, finishFlushB2B
	}
	for range rt.servers {
		o := r.newOp(kind, r.b.beh.DownstreamRetry)
		o.out = append(o.out, r.raw...)
		if kind == replyBinOne {
			o.out[1] = byte(binproto.OpFlush)
		}
	}
	r.left.Add(int32(len(r.ops)))
	for i, o := range r.ops {
		r.send(rt.servers[i], o)
	}
	r.flush()
}

// finishFlushB2B answers success when any server flushed; FLUSHQ is then
// silent. When none did, the first failure is reported.
func finishFlushB2B(r *request) {
	r.form = formOwn
	for _, o := range r.ops {
		if o.status == opOK && responseStatus(o.reply) == binproto.StatusOK {
			if r.bin.Opcode != binproto.OpFlushQ {
				r.reply = binproto.AppendResponse(r.reply, r.bin.Opcode, binproto.StatusOK, r.bin.Opaque, 0, nil, nil, nil)
			}
			return
		}
	}
	r.reply = appendFirstFailure(r.reply, r)
}

// finishStatsB2B merges every server's STAT packets (moxi's merge rules)
// and re-emits them as STAT packets and the empty terminator.
func finishStatsB2B(r *request) {
	r.form = formOwn
	var m statsMerger
	var text []byte
	answered := false
	for _, o := range r.ops {
		if o.status != opOK {
			continue
		}
		if st := responseStatus(o.reply); st != binproto.StatusOK {
			r.reply = append(r.reply, o.reply...) // the server refused the group
			return
		}
		var errLine string
		if text, errLine = statsText(text[:0], o.reply); errLine != "" {
			r.reply = append(r.reply, o.reply...) // a packet past the first was refused
			return
		}
		m.addReply(text)
		answered = true
	}
	if !answered {
		r.reply = appendFirstFailure(r.reply, r)
		return
	}
	r.reply = appendStatPackets(r.reply, m.appendTo(nil), r.bin.Opaque)
}

// appendFirstFailure appends the error reply for r's first failed op.
func appendFirstFailure(dst []byte, r *request) []byte {
	st := binproto.StatusInternal
	for _, o := range r.ops {
		if o.status != opOK {
			st = failureStatus(o.status)
			break
		}
	}
	return binproto.AppendError(dst, r.bin.Opcode, st, r.bin.Opaque, st.ProxyMessage())
}

// responseStatus is the status of the first response packet in resp.
func responseStatus(resp []byte) binproto.Status {
	if len(resp) < binproto.HeaderLen {
		return binproto.StatusInternal
	}
	var h binproto.Header
	h.Decode(resp)
	return h.Status()
}

// appendStatPackets turns "STAT name value" lines into STAT response
// packets, then the empty packet that ends a binary stats reply.
func appendStatPackets(dst, text []byte, opaque uint32) []byte {
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		rest, ok := bytes.CutPrefix(line, []byte("STAT "))
		if !ok {
			continue
		}
		name, value, _ := bytes.Cut(rest, []byte(" "))
		dst = binproto.AppendResponse(dst, binproto.OpStat, binproto.StatusOK, opaque, 0, nil, name, value)
	}
	return binproto.AppendResponse(dst, binproto.OpStat, binproto.StatusOK, opaque, 0, nil, nil, nil)
}
