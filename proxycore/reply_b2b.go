package proxycore

import (
	"bufio"
	"encoding/binary"
	"slices"

	"github.com/moxifleet/moxi/internal/binproto"
)

// writeBinary writes a binary request's reply relayed from servers: one
// response as it came, or a group's responses in request order.
func (r *request) writeBinary(w *bufio.Writer) {
	if r.quiet == 0 {
		_, _ = w.Write(r.ops[0].reply)
		return
	}
	r.writeGroup(w)
}

// writeGroup writes a group of quiet commands' responses in the order of
// its packets, as one memcached answers a connection: each server's
// responses without the proxy's NOOP fence, placed by the packet index
// they carry as opaque, the client's opaque restored. A server that
// failed costs its commands an error response each, except quiet gets,
// which read as misses, as a text multi-get's keys do. A response whose
// opaque names no packet (a server that broke the protocol) goes last.
func (r *request) writeGroup(w *bufio.Writer) {
	n := len(r.packets)
	r.byIndex = slices.Grow(r.byIndex[:0], n)[:n]
	var stray [][]byte
	place := func(raw []byte) {
		i := binary.BigEndian.Uint32(raw[12:])
		if int(i) >= n || r.byIndex[i] != nil {
			stray = append(stray, raw)
			return
		}
		binproto.SetOpaque(raw, r.packets[i].opaque)
		r.byIndex[i] = raw
	}
	for _, o := range r.ops {
		if o.status == opOK {
			eachPacket(withoutFence(o.reply), func(_ *binproto.Packet, raw []byte) {
				if i := binary.BigEndian.Uint32(raw[12:]); int(i) < n {
					r.learnPacket(int(i), raw, o.server)
				}
				place(raw)
			})
		}
	}
	for i := range r.packets {
		if gp := &r.packets[i]; gp.cachedEnd > 0 {
			place(r.cachedPkts[gp.cachedOff:gp.cachedEnd])
		}
	}
	r.placeFailures(place)
	for _, raw := range r.byIndex {
		if raw != nil {
			_, _ = w.Write(raw)
		}
	}
	for _, raw := range stray {
		_, _ = w.Write(raw)
	}
}

// placeFailures builds, for each command of a failed server other than
// a get, the error response memcached's client would see, and places it.
func (r *request) placeFailures(place func(raw []byte)) {
	type span struct{ start, end int }
	var spans []span
	for _, o := range r.ops {
		if o.status == opOK {
			continue
		}
		st := failureStatus(o.status)
		eachPacket(o.out, func(p *binproto.Packet, _ []byte) {
			if p.Opcode != binproto.OpNoop && !p.Opcode.IsGet() {
				start := len(r.errPkts)
				r.errPkts = binproto.AppendError(r.errPkts, p.Opcode, st, p.Opaque, st.ProxyMessage())
				spans = append(spans, span{start, len(r.errPkts)})
			}
		})
	}
	// Placed once errPkts has stopped growing, so the slices stay valid.
	for _, sp := range spans {
		place(r.errPkts[sp.start:sp.end])
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
