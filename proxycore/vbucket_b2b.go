package proxycore

import (
	"encoding/binary"

	"github.com/moxifleet/moxi/proxycore/binproto"
)

// A binary client's group of quiet commands (GETKQ... NOOP, SETQ...) goes
// to several servers at once, and under a vBucket map any of them may
// refuse some packets with NOT_MY_VBUCKET. Quiet errors carry no key, and
// clients often reuse one opaque, so to know which packet was refused the
// proxy numbers them: in vBucket mode each packet is sent with its index
// in the group as opaque (groupPacket remembers its place and the client's
// opaque), and every response gets the client's opaque back on the way
// out.

// groupPacket is one packet of a quiet group sent under a vBucket map.
type groupPacket struct {
	off, end int32  // where the packet sits in r.raw
	opaque   uint32 // the client's opaque
	vb       uint16
}

// numberGroupPacket records the packet r.raw[off:end] bound for vb and
// rewrites the copy in out (already holding it) to carry its index.
func (r *request) numberGroupPacket(out []byte, off, end int, opaque uint32, vb uint16) {
	binproto.SetVBucket(out, vb)
	binproto.SetOpaque(out, uint32(len(r.packets)))
	r.packets = append(r.packets, groupPacket{off: int32(off), end: int32(end), opaque: opaque, vb: vb})
}

// retryGroupNotMyVBucket takes out of a fenced group reply the responses
// refused NOT_MY_VBUCKET and, while retries last, sends their packets
// again to their retry targets, each server's share fenced by a NOOP; the
// new ops are counted in r.left before o is done, so the reply waits.
// When retries run out the refusals stay in the reply, as moxi relays
// the raw status.
func (r *request) retryGroupNotMyVBucket(o *op) {
	if o.kind != replyBinFenced || o.status != opOK || len(r.packets) == 0 || !r.mayRetryVBucket(o) {
		return
	}
	rt := r.retryRouting()
	if rt == nil {
		return
	}
	refused := r.takeRefused(o)
	if len(refused) == 0 {
		return
	}
	r.mu.Lock()
	first := len(r.ops)
	for _, idx := range refused {
		gp := r.packets[idx]
		n := r.retryOp(first, replyBinFenced, rt.servers[rt.retryTarget(gp.vb, o.server)], o.vbLeft-1)
		start := len(n.out)
		n.out = append(n.out, r.raw[gp.off:gp.end]...)
		binproto.SetVBucket(n.out[start:], gp.vb)
		binproto.SetOpaque(n.out[start:], idx)
	}
	fresh := r.ops[first:]
	for _, n := range fresh {
		n.out = binproto.AppendRequest(n.out, binproto.OpNoop, 0, 0, 0, nil, nil, nil)
	}
	r.left.Add(int32(len(fresh)))
	r.mu.Unlock()
	r.b.stats.add(totRetryVBucket, uint64(len(refused)))
	resendAfter(rt.maxVBucketRetries()-o.vbLeft+1, fresh...)
}

// takeRefused removes the NOT_MY_VBUCKET responses from o.reply and
// returns the group indexes of the packets they answer.
func (r *request) takeRefused(o *op) []uint32 {
	var refused []uint32
	kept := 0
	eachPacket(o.reply, func(p *binproto.Packet, raw []byte) {
		if p.Status() == binproto.StatusNotMyVBucket && int(p.Opaque) < len(r.packets) {
			refused = append(refused, p.Opaque)
			return
		}
		kept += copy(o.reply[kept:], raw)
	})
	if refused != nil {
		o.reply = o.reply[:kept]
	}
	return refused
}

// restoreOpaque gives a response of a numbered group its client's opaque.
func (r *request) restoreOpaque(pkt []byte) {
	if len(r.packets) == 0 || len(pkt) < binproto.HeaderLen {
		return
	}
	if i := binary.BigEndian.Uint32(pkt[12:]); int(i) < len(r.packets) {
		binproto.SetOpaque(pkt, r.packets[i].opaque)
	}
}
