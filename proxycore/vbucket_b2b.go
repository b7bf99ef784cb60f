package proxycore

import (
	"github.com/moxifleet/moxi/internal/binproto"
)

// A binary client's group of quiet commands (GETKQ... NOOP, SETQ...) goes
// to several servers at once. Quiet errors carry no key, and clients often
// reuse one opaque, so the proxy numbers the packets: each is sent with its
// index in the group as opaque (groupPacket remembers its place and the
// client's opaque). That puts the responses back in request order, as one
// memcached would send them (writeGroup), tells which packet a server
// refused NOT_MY_VBUCKET under a vBucket map, and every response gets the
// client's opaque back on the way out.

// groupPacket is one packet of a quiet group, recorded as the client's
// reader parsed it (packetAt), so the group is parsed once.
type groupPacket struct {
	off, end       int32  // where the packet sits in r.raw
	keyOff, keyEnd int32  // where its key sits in r.raw
	opaque         uint32 // the client's opaque
	vb             uint16 // the vBucket it was sent for (vBucket maps)
	// cachedOff:cachedEnd is its response in r.cachedPkts when the front
	// cache answered it; cachedEnd is 0 otherwise.
	cachedOff, cachedEnd int32
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
