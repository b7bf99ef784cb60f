package proxycore

import (
	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/binproto"
)

// Where requests meet the front cache: text get and gets, meta mg and
// binary GET, GETK, GETQ and GETKQ, alone or in a quiet group, are
// answered from it when it holds exactly what the server would send, and
// teach it what the server did send. gat, gats, GAT and mg with T, N, E,
// or a flag the cache cannot answer (t, h, l, b...) go to the server.

// frontCacheFor returns the cache a text get or gets reads and learns
// through, noting the epoch its replies must still be in; nil for other
// requests (gat and gats change the item's TTL at the server).
func (r *request) frontCacheFor() *frontCache {
	fc := r.b.fc
	if fc == nil || r.binary || (r.cmd.Op != ascii.OpGet && r.cmd.Op != ascii.OpGets) {
		return nil
	}
	r.cacheEpoch = fc.epoch.Load()
	return fc
}

// answerMetaFromCache completes an mg the cache can answer, as the
// server would; false sends it on (its reply is then learnt).
func (r *request) answerMetaFromCache() bool {
	fc := r.b.fc
	if fc == nil || r.cmd.Op != ascii.OpMetaGet || !metaAnswerable(&r.cmd) {
		return false
	}
	r.cacheEpoch = fc.epoch.Load()
	v, ok := fc.get(r.cmd.Key, r.cmd.Meta.Has('c'))
	if !ok {
		return false
	}
	r.form, r.fromCache = formOwn, true
	r.reply = v.appendMeta(r.reply, &r.cmd)
	return true
}

// answerBinaryFromCache completes a binary get the cache can answer.
func (r *request) answerBinaryFromCache() bool {
	fc := r.b.fc
	if fc == nil || !cacheableGet(r.bin.Opcode) {
		return false
	}
	r.cacheEpoch = fc.epoch.Load()
	v, ok := fc.get(r.bin.Key, true)
	if !ok {
		return false
	}
	r.form, r.fromCache = formOwn, true
	r.reply = v.appendBinary(r.reply, r.bin.Opcode, r.bin.Opaque, r.bin.Key)
	return true
}

// cacheableGet reports a binary get the cache may answer: not GAT, which
// changes the item's TTL at the server.
func cacheableGet(op binproto.Opcode) bool {
	switch op.Loud() {
	case binproto.OpGet, binproto.OpGetK:
		return true
	}
	return false
}

// groupFromCache answers the gets of a quiet group the cache holds,
// appending their responses to r.cachedPkts with the packet's index as
// opaque (writeGroup places them like a server's); it reports whether
// packet i was answered.
func (r *request) groupFromCache(i int) bool {
	fc := r.b.fc
	if fc == nil {
		return false
	}
	gp := &r.packets[i]
	op := binproto.Opcode(r.raw[gp.off+1])
	if !cacheableGet(op) {
		return false
	}
	if i == 0 {
		r.cacheEpoch = fc.epoch.Load()
	}
	key := r.raw[gp.keyOff:gp.keyEnd]
	v, ok := fc.get(key, true)
	if !ok {
		return false
	}
	start := len(r.cachedPkts)
	r.cachedPkts = v.appendBinary(r.cachedPkts, op, uint32(i), key)
	gp.cachedOff, gp.cachedEnd = int32(start), int32(len(r.cachedPkts))
	r.fromCache = true
	return true
}

// learnValues adds a finished request's values to the front cache: a
// text get's VALUE blocks, an mg's value, a binary get's response. A
// quiet group's responses are learnt as writeGroup places them
// (learnPacket).
func (r *request) learnValues() {
	fc := r.b.fc
	if fc == nil || len(r.ops) == 0 || r.refused {
		return
	}
	switch {
	case r.binary:
		if r.quiet == 0 && cacheableGet(r.bin.Opcode) && r.form != formOwn && r.ops[0].status == opOK {
			r.learnPacketFrom(fc, r.bin.Key, r.ops[0].reply, r.ops[0].server)
		}
	case r.cmd.Op == ascii.OpGet || r.cmd.Op == ascii.OpGets:
		for i := range r.slots {
			s := &r.slots[i]
			if s.cached == nil && s.op != nil && s.op.status == opOK {
				fc.learnBlock(s.key, s.valueBlock(), s.op.server, r.cacheEpoch)
			}
		}
	case r.cmd.Op == ascii.OpMetaGet && metaLearnable(&r.cmd) && r.ops[0].status == opOK:
		if v, ok := parseMetaValue(r.firstReply()); ok {
			fc.learn(r.cmd.Key, v, r.ops[0].server, r.cacheEpoch)
		}
	}
}

// learnPacket learns a quiet group's response to packet i, which server
// sent, before writeGroup gives it the client's opaque.
func (r *request) learnPacket(i int, raw []byte, server *downstream) {
	fc := r.b.fc
	if fc == nil || server == nil {
		return
	}
	gp := &r.packets[i]
	if cacheableGet(binproto.Opcode(r.raw[gp.off+1])) {
		r.learnPacketFrom(fc, r.raw[gp.keyOff:gp.keyEnd], raw, server)
	}
}

func (r *request) learnPacketFrom(fc *frontCache, key, raw []byte, server *downstream) {
	if !fc.cacheable(key) || fc.epoch.Load() != r.cacheEpoch {
		return
	}
	if v, ok := parseBinaryValue(raw); ok {
		fc.learn(key, v, server, r.cacheEpoch)
	}
}
