package proxycore

import (
	"bufio"

	"github.com/moxifleet/moxi/proxycore/binproto"
)

// writeBinary writes a binary request's reply relayed from servers: one
// response as it came, or for a group of quiet commands each server's
// responses without the proxy's NOOP fence. A server that failed costs
// its commands an error reply each, except quiet gets, which read as
// misses, as a text multi-get's keys do.
func (r *request) writeBinary(w *bufio.Writer) {
	if r.quiet == 0 {
		_, _ = w.Write(r.ops[0].reply)
		return
	}
	for _, o := range r.ops {
		if o.status == opOK {
			resp := withoutFence(o.reply)
			if len(r.packets) > 0 {
				eachPacket(resp, func(_ *binproto.Packet, raw []byte) { r.restoreOpaque(raw) })
			}
			_, _ = w.Write(resp)
			continue
		}
		st := failureStatus(o.status)
		var buf []byte
		eachPacket(o.out, func(p *binproto.Packet, _ []byte) {
			if p.Opcode != binproto.OpNoop && !p.Opcode.IsGet() {
				buf = binproto.AppendError(buf[:0], p.Opcode, st, p.Opaque, st.ProxyMessage())
				r.restoreOpaque(buf)
				_, _ = w.Write(buf)
			}
		})
	}
}

// withoutFence returns resp without its final packet, the response to
// the proxy's NOOP fence.
func withoutFence(resp []byte) []byte {
	off, last := 0, len(resp)
	for off+binproto.HeaderLen <= len(resp) {
		var h binproto.Header
		h.Decode(resp[off:])
		if h.Opcode == binproto.OpNoop {
			last = off
		}
		off += binproto.HeaderLen + int(h.BodyLen)
	}
	return resp[:last]
}
