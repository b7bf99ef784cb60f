package proxycore

import (
	"slices"
	"time"

	"github.com/moxifleet/moxi/proxycore/binproto"
)

// locate returns the index of key's server in rt and the vbucket to put
// in binary requests (0 for maps that do not hash by vBucket). The index
// is -1 when the map names no server for the key's vbucket yet.
func (rt *routing) locate(key []byte) (int, uint16) {
	if !rt.m.IsVBucket() {
		return rt.m.Locate(key), 0
	}
	vb := rt.m.VBucketOf(key)
	return rt.m.Master(vb), vb
}

// nextServer is where a request goes after server wrong answered
// NOT_MY_VBUCKET for vb: the master of the fast-forward map when there is
// one (the layout a running rebalance is moving to), otherwise the next
// server in the list, as libvbucket's found_incorrect_master probes.
func (rt *routing) nextServer(vb uint16, wrong int) int {
	if f := rt.m.ForwardMaster(vb); f >= 0 && f != wrong {
		return f
	}
	return (wrong + 1) % len(rt.servers)
}

// maxVBucketRetries is moxi's cproxy_max_retries: twice the servers.
func (rt *routing) maxVBucketRetries() int { return 2 * len(rt.servers) }

// retryNotMyVBucket re-sends a single-response op that a server refused
// with NOT_MY_VBUCKET, while retries last. It reports whether o was
// re-sent (and so is not done). The retry goes by the newest map: during
// a rebalance the REST stream publishes each moved vbucket, so the map in
// force knows better than the one the request started with. Only when
// that map still names the refusing server does it probe (forward map,
// then the next server). Retries back off a little each time, because a
// vbucket in the middle of a move is refused by both its old and new
// owner for a moment.
func (r *request) retryNotMyVBucket(o *op) bool {
	if o.status != opOK || o.kind != replyBinOne || r.rt == nil || !r.rt.m.IsVBucket() || o.vbLeft <= 0 {
		return false
	}
	if responseStatus(o.reply) != binproto.StatusNotMyVBucket {
		return false
	}
	cur := o.rt
	if cur == nil {
		cur = r.rt
	}
	wrong := cur.servers[o.srvIdx]
	rt := r.b.routing()
	if rt == nil || !rt.m.IsVBucket() || len(rt.servers) == 0 {
		return false
	}
	next := rt.m.Master(o.vb)
	if next < 0 || rt.servers[next] == wrong {
		next = rt.nextServer(o.vb, slices.Index(rt.servers, wrong))
	}
	attempt := rt.maxVBucketRetries() - o.vbLeft + 1
	o.vbLeft--
	o.rt, o.srvIdx = rt, next
	o.reply = o.reply[:0]
	r.b.stats.inc(totRetryVBucket)
	srv := rt.servers[next]
	time.AfterFunc(time.Duration(min(attempt, 20))*vbucketRetryStep, func() { srv.submit(o) })
	return true
}

// vbucketRetryStep is the backoff step between NOT_MY_VBUCKET retries.
const vbucketRetryStep = 5 * time.Millisecond

// refetchNotMyVBucket sends again, to their next candidate servers, the
// keys of a multi-get op that its server refused with NOT_MY_VBUCKET,
// while retries last; the other keys' values stand. The new ops are
// counted in r.left before o is, so the reply waits for them.
func (r *request) refetchNotMyVBucket(o *op) {
	if len(o.nmvb) == 0 || o.status != opOK || o.vbLeft <= 0 || r.rt == nil {
		return
	}
	r.mu.Lock()
	first := len(r.ops)
	for _, pos := range o.nmvb {
		if int(pos) >= len(o.slots) {
			continue
		}
		si := o.slots[pos]
		key := r.slots[si].key
		vb := r.rt.m.VBucketOf(key)
		n := r.refetchOp(first, r.rt.nextServer(vb, o.srvIdx), o.vbLeft-1)
		addGetKeyA2B(n, &r.cmd, key, vb, uint32(len(n.slots)))
		n.slots = append(n.slots, si)
	}
	fresh := r.ops[first:]
	for _, n := range fresh {
		endGetA2B(n)
	}
	r.left.Add(int32(len(fresh)))
	r.mu.Unlock()
	r.b.stats.add(totRetryVBucket, uint64(len(o.nmvb)))
	for _, n := range fresh {
		r.rt.servers[n.srvIdx].submit(n)
	}
}

// refetchOp returns the op among r.ops[first:] bound for server idx,
// adding one. Called with r.mu held.
func (r *request) refetchOp(first, idx, vbLeft int) *op {
	for _, n := range r.ops[first:] {
		if n.srvIdx == idx {
			return n
		}
	}
	n := r.newOp(replyBinValues, r.b.beh.DownstreamRetry)
	n.srvIdx, n.vbLeft = idx, vbLeft
	return n
}
