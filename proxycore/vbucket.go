package proxycore

import (
	"slices"
	"time"

	"github.com/moxifleet/moxi/internal/binproto"
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

// maxVBucketRetries is moxi's cproxy_max_retries: twice the servers.
func (rt *routing) maxVBucketRetries() int { return 2 * len(rt.servers) }

// retryTarget is the index in rt of the server to ask about vb after
// wrong answered NOT_MY_VBUCKET. The retry goes by the newest map: during
// a rebalance the REST stream publishes each moved vbucket, so the map in
// force knows better than the one the request started with. Only when
// that map still names the refusing server does it probe (forward map,
// then the next server).
func (rt *routing) retryTarget(vb uint16, wrong *downstream) int {
	if next := rt.m.Master(vb); next >= 0 && rt.servers[next] != wrong {
		return next
	}
	w := slices.Index(rt.servers, wrong)
	// libvbucket's step: the forward map's master, or the next server.
	// The forward master may be the refusing server itself; then probe
	// on, as the client guide says to keep linear probing.
	if next := rt.m.NextMaster(vb, w, w); next >= 0 && next != w {
		return next
	}
	return (w + 1) % len(rt.servers)
}

// retryRouting is the routing NOT_MY_VBUCKET retries of r go by: the
// bucket's newest, as long as r was routed by a vBucket map at all.
func (r *request) retryRouting() *routing {
	if r.rt == nil || !r.rt.m.IsVBucket() {
		return nil
	}
	if rt := r.b.routing(); rt != nil && rt.m.IsVBucket() && len(rt.servers) > 0 {
		return rt
	}
	return nil
}

// vbucketRetryWindow is how long NOT_MY_VBUCKET retries go on, by the
// newest map, after their count (twice the servers) is spent. The count
// alone lasts about 200 ms; a map can take longer to arrive, above all in
// a fleet, where a node learns it only when raft commits it: during a fast
// rebalance, moved vbuckets were then refused until retries ran out.
const vbucketRetryWindow = time.Second

// mayRetryVBucket reports whether o, refused NOT_MY_VBUCKET, may be
// retried: while its retries last, then until the window closes.
func (r *request) mayRetryVBucket(o *op) bool {
	return o.vbLeft > 0 || (!r.started.IsZero() && time.Since(r.started) < vbucketRetryWindow)
}

// vbucketRetryStep is the backoff step between NOT_MY_VBUCKET retries.
// Retries back off a little each time, because a vbucket in the middle of
// a move is refused by both its old and new owner for a moment.
const vbucketRetryStep = 5 * time.Millisecond

// resendAfter submits ops to their servers (set in op.server) after the
// backoff of retry number attempt.
func resendAfter(attempt int, ops ...*op) {
	delay := time.Duration(min(attempt, 20)) * vbucketRetryStep
	for _, o := range ops {
		time.AfterFunc(delay, func() { o.server.submit(o) })
	}
}

// retryNotMyVBucket re-sends a single-response op that a server refused
// with NOT_MY_VBUCKET, while retries last. It reports whether o was
// re-sent (and so is not done).
func (r *request) retryNotMyVBucket(o *op) bool {
	if o.status != opOK || o.kind != replyBinOne || !r.mayRetryVBucket(o) ||
		responseStatus(o.reply) != binproto.StatusNotMyVBucket {
		return false
	}
	rt := r.retryRouting()
	if rt == nil {
		return false
	}
	attempt := rt.maxVBucketRetries() - o.vbLeft + 1
	o.vbLeft--
	o.server = rt.servers[rt.retryTarget(o.vb, o.server)]
	o.reply = o.reply[:0]
	r.b.stats.inc(totRetryVBucket)
	resendAfter(attempt, o)
	return true
}

// refetchNotMyVBucket sends again, to their retry targets, the keys of a
// multi-get op that its server refused with NOT_MY_VBUCKET, while retries
// last; the other keys' values stand. The new ops are counted in r.left
// before o is, so the reply waits for them.
func (r *request) refetchNotMyVBucket(o *op) {
	if len(o.nmvb) == 0 || o.status != opOK || !r.mayRetryVBucket(o) {
		return
	}
	rt := r.retryRouting()
	if rt == nil {
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
		vb := rt.m.VBucketOf(key)
		n := r.retryOp(first, replyBinValues, rt.servers[rt.retryTarget(vb, o.server)], o.vbLeft-1)
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
	resendAfter(rt.maxVBucketRetries()-o.vbLeft+1, fresh...)
}

// retryOp returns the retry op among r.ops[first:] bound for srv, adding
// one of the given kind. Called with r.mu held.
func (r *request) retryOp(first int, kind replyKind, srv *downstream, vbLeft int) *op {
	for _, n := range r.ops[first:] {
		if n.server == srv {
			return n
		}
	}
	n := r.newOp(kind, r.b.beh.DownstreamRetry)
	n.server, n.vbLeft = srv, vbLeft
	return n
}
