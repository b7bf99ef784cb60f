package proxycore

import (
	"bufio"
	"hash/maphash"

	"github.com/moxifleet/moxi/internal/ascii"
)

// smallGet is the key count up to which duplicates are found by a linear
// scan; above it a map is cheaper.
const smallGet = 16

// forwardGet splits a get over the servers owning its keys: one request
// per server (more for long gat lines) carrying each distinct key once.
// The reply is assembled in the client's key order when all are back.
func (cc *clientConn) forwardGet(r *request, rt *routing) {
	cmd := &r.cmd
	r.dedupe(cmd.Keys)
	r.countMultiget()
	perServer := r.perServer(len(rt.servers))
	r.targets = r.targets[:0]
	bin := r.b.binaryDownstream()
	fc := r.frontCacheFor()
	for i := range r.slots {
		if fc != nil {
			if block, ok := fc.lookup(r.slots[i].key, cmd.Op == ascii.OpGets); ok {
				r.slots[i].cached = block
				r.fromCache = true
				continue
			}
		}
		si, vb := rt.locate(r.slots[i].key)
		if si < 0 {
			continue // no server owns its vbucket yet: a miss
		}
		if !bin {
			r.addGetKeyASCII(perServer, rt, si, int32(i))
			continue
		}
		o := r.getPart(perServer, rt, si, replyBinValues)
		addGetKeyA2B(o, cmd, r.slots[i].key, vb, uint32(len(o.slots)))
		o.slots = append(o.slots, int32(i))
	}
	for _, o := range r.ops {
		if bin {
			endGetA2B(o)
			continue
		}
		if o.out[len(o.out)-1] != '\n' {
			o.out = append(o.out, "\r\n"...)
		}
		o.merge = cmd.Op == ascii.OpGet && len(o.slots) == 1
	}
	r.left.Add(int32(len(r.ops)))
	for i, o := range r.ops {
		r.send(r.targets[i], o)
	}
	r.flush()
}

// countMultiget counts a multi-get's keys and the duplicates dropped.
func (r *request) countMultiget() {
	n := len(r.cmd.Keys)
	if n <= 1 {
		return
	}
	r.b.stats.add(totMultigetKeys, uint64(n))
	if d := n - len(r.slots); d > 0 {
		r.b.stats.add(totMultigetKeysDedupe, uint64(d))
	}
}

// getPart returns the op carrying the get's keys to server si, starting
// one (and recording its target) when there is none yet.
func (r *request) getPart(perServer []*op, rt *routing, si int, kind replyKind) *op {
	if o := perServer[si]; o != nil {
		return o
	}
	o := r.newOp(kind, r.b.beh.DownstreamRetry)
	o.vbLeft = rt.maxVBucketRetries()
	perServer[si] = o
	r.targets = append(r.targets, rt.servers[si])
	return o
}

// addGetKeyASCII adds slot i's key to server si's text get line. A gat
// line about to pass memcached's length guard is ended and a new request
// to the same server started.
func (r *request) addGetKeyASCII(perServer []*op, rt *routing, si int, i int32) {
	cmd, key := &r.cmd, r.slots[i].key
	gat := cmd.Op == ascii.OpGat || cmd.Op == ascii.OpGats
	if o := perServer[si]; o != nil && gat && len(o.out)+len(key) > getLineLimit {
		o.out = append(o.out, "\r\n"...)
		perServer[si] = nil
	}
	o := r.getPart(perServer, rt, si, replyValues)
	if len(o.out) == 0 {
		o.out = startGet(o.out, cmd)
	}
	o.out = append(append(o.out, ' '), key...)
	o.slots = append(o.slots, i)
}

// perServer returns r's reusable per-server op table, cleared.
func (r *request) perServer(n int) []*op {
	if cap(r.byServer) < n {
		r.byServer = make([]*op, n)
	}
	r.byServer = r.byServer[:n]
	clear(r.byServer)
	return r.byServer
}

// dedupe fills r.slots with the distinct keys and r.keySlots with each
// client key's slot. Small gets scan linearly; large ones use an
// open-addressing table of slot indexes that the request keeps and reuses,
// so even a 10,000-key get allocates nothing once warm.
func (r *request) dedupe(keys [][]byte) {
	if len(keys) > smallGet {
		r.resetTable(len(keys))
	}
	for _, k := range keys {
		var idx int32
		if len(keys) > smallGet {
			idx = r.tableSlot(k)
		} else {
			idx = r.scanSlot(k)
		}
		r.keySlots = append(r.keySlots, idx)
	}
}

// scanSlot finds k among the slots by a linear scan, adding it if new.
func (r *request) scanSlot(k []byte) int32 {
	for i := range r.slots {
		if string(r.slots[i].key) == string(k) {
			return int32(i)
		}
	}
	r.slots = append(r.slots, slot{key: k})
	return int32(len(r.slots) - 1)
}

// resetTable sizes the hash table to a power of two at least twice n.
func (r *request) resetTable(n int) {
	size := 64
	for size < 2*n {
		size <<= 1
	}
	if cap(r.table) < size {
		r.table = make([]int32, size)
	}
	r.table = r.table[:size]
	for i := range r.table {
		r.table[i] = -1
	}
}

// tableSlot finds k in the hash table by linear probing, adding it if new.
func (r *request) tableSlot(k []byte) int32 {
	mask := uint64(len(r.table) - 1)
	for h := maphash.Bytes(r.conn.srv.seed, k) & mask; ; h = (h + 1) & mask {
		idx := r.table[h]
		if idx < 0 {
			r.slots = append(r.slots, slot{key: k})
			r.table[h] = int32(len(r.slots) - 1)
			return r.table[h]
		}
		if string(r.slots[idx].key) == string(k) {
			return idx
		}
	}
}

// writeValues writes the VALUE block of every client key that hit, in the
// client's order, straight from the servers' reply buffers, then END. A
// server that failed costs only its keys, which read as misses, except in
// a REST vBucket bucket, where moxi ended such a get with the failure's
// SERVER_ERROR line instead of END.
func (r *request) writeValues(w *bufio.Writer) {
	var sent []bool // only when a key repeats: which slots went out already
	if len(r.keySlots) > len(r.slots) {
		sent = make([]bool, len(r.slots))
	}
	dupBytes := 0
	for _, si := range r.keySlots {
		s := &r.slots[si]
		if s.cached != nil || (s.op != nil && s.op.status == opOK) {
			block := s.valueBlock()
			_, _ = w.Write(block)
			if sent != nil {
				if sent[si] {
					dupBytes += len(block) // fetched once, sent again
				}
				sent[si] = true
			}
		}
	}
	if dupBytes > 0 {
		r.b.stats.add(totMultigetBytesDedupe, uint64(dupBytes))
	}
	if r.b.cfg.REST && r.rt != nil && r.rt.m.IsVBucket() {
		if o := r.failedOp(); o != nil {
			_, _ = w.Write(appendGetError(nil, o, len(r.slots) == 1))
			return
		}
	}
	_, _ = w.WriteString("END\r\n")
}

// failedOp returns the first op of r whose exchange failed, or nil.
func (r *request) failedOp() *op {
	for _, o := range r.ops {
		if o.status != opOK {
			return o
		}
	}
	return nil
}

// appendGetError is appendDownstreamError for a get: moxi cleared the
// target of a single-key get before its timeout fired, so that one
// names no host.
func appendGetError(dst []byte, o *op, single bool) []byte {
	if single && o.status == opTimeout {
		return append(dst, "SERVER_ERROR proxy downstream timeout\r\n"...)
	}
	return appendDownstreamError(dst, o)
}
