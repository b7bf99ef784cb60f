package proxycore

import (
	"sync/atomic"
)

// DefaultClientMaxPendingBytes is client_max_pending_bytes' default: the
// reply bytes moxi holds for one client before it stops reading that
// client's requests.
const DefaultClientMaxPendingBytes = 4 << 20

// overflowFactor scales the budget into the hard limit past which a client
// is closed (see replyBudget).
const overflowFactor = 4

// replyBudget bounds the reply bytes moxi holds for one client: replies
// read from servers and not yet written to the client, plus an estimate
// for each request still in flight. A client that pipelines requests and
// does not read their replies would otherwise make moxi buffer without
// limit, since a server connection is shared and must be read whatever
// one client does.
//
// Three rules keep it bounded:
//   - Admission: the reader dispatches a request only while held bytes
//     plus the request's estimate fit the budget, or when the client has
//     nothing else outstanding (so one reply, however large, always goes).
//     Otherwise it stops reading, which pushes back on the client through
//     TCP, as memcached does when a client does not read.
//   - Estimates: a retrieval reserves its key count times perKey, which
//     starts at the largest item (-I) and then follows the sizes this
//     client's replies really have, so a fresh client cannot put many
//     huge gets in flight at once while a client of small values keeps
//     its full pipeline.
//   - Overflow: estimates can be fooled (small values first, then huge
//     ones). If the bytes held for a client's other requests pass
//     overflowFactor x the budget, the client is closed and its replies
//     are dropped as they arrive, as Redis does past
//     client-output-buffer-limit.
//
// So memory stays near connections x budget plus one reply each.
type replyBudget struct {
	limit   int64        // client_max_pending_bytes; 0 means unbounded
	held    atomic.Int64 // bytes held plus in-flight estimates
	perKey  atomic.Int64 // estimated reply bytes per retrieved key
	waiting atomic.Bool  // the reader is blocked in admit
	wake    chan struct{}
}

func (bud *replyBudget) init(limit, perKey int64) {
	bud.limit = limit
	bud.perKey.Store(perKey)
	bud.wake = make(chan struct{}, 1)
}

// signal wakes a reader blocked in admit. The reader announces itself in
// waiting before its last check, so a change made before this load is
// either seen by that check or followed by this wake.
func (bud *replyBudget) signal() {
	if bud.waiting.Load() {
		select {
		case bud.wake <- struct{}{}:
		default:
		}
	}
}

// admit waits until r may be dispatched and charges its estimate. It
// returns false when the client is closing or moxi is shutting down.
func (cc *clientConn) admit(r *request) bool {
	bud := &cc.budget
	if bud.limit <= 0 {
		return true
	}
	reserve := int64(r.replyKeys) * bud.perKey.Load()
	for !cc.fits(reserve) {
		bud.waiting.Store(true)
		if cc.fits(reserve) {
			break
		}
		select {
		case <-bud.wake:
		case <-cc.ctx.Done():
			bud.waiting.Store(false)
			return false
		}
		if cc.dead.Load() {
			bud.waiting.Store(false)
			return false
		}
	}
	bud.waiting.Store(false)
	bud.held.Add(reserve)
	r.charged = reserve
	return true
}

// fits reports whether a request reserving reserve bytes may go now.
func (cc *clientConn) fits(reserve int64) bool {
	return cc.pending.Load() == 0 || cc.budget.held.Load()+reserve <= cc.budget.limit
}

// settle replaces r's estimate with the bytes its reply really holds,
// learns from them, and closes a client whose other replies overflowed.
// It runs once per request, when it completes.
func (cc *clientConn) settle(r *request) {
	bud := &cc.budget
	if bud.limit <= 0 {
		return
	}
	if cc.dead.Load() {
		r.dropReply()
	}
	actual := r.heldBytes()
	bud.held.Add(actual - r.charged)
	if actual < r.charged {
		bud.signal()
	}
	r.charged = actual
	if r.replyKeys > 0 {
		bud.perKey.Store(max(actual/int64(r.replyKeys), bud.perKey.Load()/2))
	}
	if bud.held.Load()-actual > overflowFactor*bud.limit {
		cc.overflow()
		r.dropReply()
	}
}

// discharge returns r's bytes to the budget once its reply is written (or
// dropped).
func (cc *clientConn) discharge(r *request) {
	if r.charged != 0 {
		cc.budget.held.Add(-r.charged)
		r.charged = 0
	}
	cc.budget.signal()
}

// overflow closes a client whose held replies passed the hard limit.
func (cc *clientConn) overflow() {
	if cc.dead.Swap(true) {
		return
	}
	cc.b.stats.inc(totClientOverflow)
	cc.srv.logger.Warn("closing client: unread replies over the limit",
		"remote", cc.c.RemoteAddr().String(), "held_bytes", cc.budget.held.Load(),
		"client_max_pending_bytes", cc.budget.limit)
	_ = cc.c.Close()
	cc.budget.signal()
}

// heldBytes is the memory r's reply holds: its own reply, its ops' and
// the big VALUE blocks its slots keep apart.
func (r *request) heldBytes() int64 {
	n := len(r.reply)
	for _, o := range r.ops {
		n += len(o.reply)
	}
	for i := range r.slots {
		n += len(r.slots[i].big)
	}
	return int64(n)
}

// dropReply frees the reply of a request whose client is gone, so that a
// closed client's replies do not pile up while its writer catches up.
func (r *request) dropReply() {
	r.silent = true
	r.reply = nil
	for _, o := range r.ops {
		o.reply = nil
	}
	for i := range r.slots {
		r.slots[i].big = nil
	}
}
