package proxycore

import (
	"github.com/moxifleet/moxi/internal/ascii"
)

// With the default binary downstream, the meta commands (mg, ms, md, ma,
// me) go to their server over a text connection of its own: many of their
// flags have no binary field (mg t, h, l, u, N, R; ms and md I; ma N with
// q), nor do their reply flags (X, W, Z of a stale item), nor me, nor the
// key form b echoes. memcached 1.6 serves text and binary on one port, so
// the server's text twin (downstream.textTwin) opens text connections on
// first use and multiplexes them like the binary ones. stats goes the
// same way: binary's STAT packets cannot carry "stats detail dump", "stats
// cachedump" or a group's usage error. Classic commands stay binary.
//
// A client's commands must still run in the order it sent them across
// the two connections: when a client switches between a meta command and
// a classic one, the new one waits until the client's earlier requests
// are done (clientConn.orderForText). Requests of one kind in a row keep
// their pipelining, as they share a connection per server.
//
// Where text cannot carry a command, it is translated to binary as far
// as binary can say it, and what it cannot say gets a CLIENT_ERROR: under
// a vBucket map (the server needs the vBucket id, which only binary
// carries) and for a bucket that logs in with SASL (only binary has SASL).

// route is the connection kind a server-bound request takes.
type route uint8

const (
	routeNone   route = iota // answered by the proxy itself
	routeBinary              // the bucket's downstream protocol
	routeText                // a meta command over text to a binary bucket's server
)

// routeOf classifies cmd for a client of bucket b.
func routeOf(b *bucket, cmd *ascii.Request) route {
	switch cmd.Op {
	case ascii.OpQuit, ascii.OpVersion, ascii.OpVerbosity, ascii.OpMetaNoop:
		return routeNone
	case ascii.OpStats:
		if isProxyStats(cmd.Args) {
			return routeNone
		}
		fallthrough // stats groups binary renders badly (detail dump, cachedump, errors)
	case ascii.OpMetaGet, ascii.OpMetaSet, ascii.OpMetaDelete, ascii.OpMetaArith, ascii.OpMetaDebug:
		if b.binaryDownstream() {
			if rt := b.routing(); rt != nil && textAllowed(b, rt) {
				return routeText
			}
		}
	}
	return routeBinary
}

// textAllowed reports whether a command may take a text connection to
// servers of this bucket and routing.
func textAllowed(b *bucket, rt *routing) bool {
	return !rt.m.IsVBucket() && b.beh.Usr == "" && b.beh.Bucket == ""
}

// orderForText is called by a text client's reader before each request
// is dispatched: a request that changes connection kind waits for the
// client's earlier ones (see above). It counts r in flight until r
// completes.
func (cc *clientConn) orderForText(r *request) {
	rt := routeOf(cc.b, &r.cmd)
	if rt != routeNone {
		if rt != cc.lastRoute && cc.lastRoute != routeNone {
			cc.drain()
		}
		cc.lastRoute = rt
	}
	r.viaText = rt == routeText
	cc.inflight.Add(1)
	r.counted = true
}

// drain waits until none of this client's requests is in flight, or the
// proxy shuts down (then requests end by their own timeouts).
func (cc *clientConn) drain() {
	cc.drainMu.Lock()
	cc.drainWait.Store(true)
	if cc.inflight.Load() == 0 {
		cc.drainWait.Store(false)
		cc.drainMu.Unlock()
		return
	}
	ch := make(chan struct{})
	cc.drained = ch
	cc.drainMu.Unlock()
	select {
	case <-ch:
	case <-cc.ctx.Done():
	}
	cc.drainMu.Lock()
	cc.drained = nil
	cc.drainWait.Store(false)
	cc.drainMu.Unlock()
}

// finished counts a request out of flight, waking a drain at zero.
func (cc *clientConn) finished() {
	if cc.inflight.Add(-1) != 0 || !cc.drainWait.Load() {
		return
	}
	cc.drainMu.Lock()
	if cc.drained != nil {
		close(cc.drained)
		cc.drained = nil
	}
	cc.drainMu.Unlock()
}
