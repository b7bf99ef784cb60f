package node

import (
	"math"

	"github.com/moxifleet/moxi/proxycore"
)

// computeLive turns two readings into the figures of the interval
// between them. prev is nil for the first reading: every figure is then
// none, the totals are cur's.
func computeLive(prev *reading, cur reading, seq uint64) Live {
	secs := math.NaN()
	if prev != nil {
		secs = cur.at.Sub(prev.at).Seconds()
	}
	l := Live{Seq: seq, At: cur.at, Interval: num(secs)}
	l.Servers = liveServers(prev, cur, secs)
	var clients, clientsBefore proxycore.Histogram // every bucket's, for the node's p99
	l.Buckets, clients, clientsBefore = liveBuckets(prev, cur, secs)
	l.Node = liveNode(l, prev, cur, clients, clientsBefore)
	return l
}

func liveServers(prev *reading, cur reading, secs float64) []ServerLive {
	before := map[serverKey]proxycore.ServerSample{}
	if prev != nil {
		for _, s := range prev.servers {
			before[serverKey{bucketKey{s.Port, s.Bucket}, s.Addr}] = s
		}
	}
	out := make([]ServerLive, 0, len(cur.servers))
	for _, s := range cur.servers {
		p, ok := before[serverKey{bucketKey{s.Port, s.Bucket}, s.Addr}]
		out = append(out, ServerLive{Port: s.Port, Bucket: s.Bucket, Addr: s.Addr,
			Requests: s.Requests, Errors: s.Errors, Timeouts: s.Timeouts, Refused: s.Refused,
			Conns: s.Conns, Blacklisted: s.Blacklisted,
			ReqRate: rate(s.Requests, p.Requests, ok, secs),
			ErrRate: rate(s.Errors, p.Errors, ok, secs),
			P99ms:   p99ms(s.Latency, p.Latency, ok)})
	}
	return out
}

// liveBuckets also returns the clients' latency histograms of every
// bucket added up, now and at prev, over the buckets both readings have.
func liveBuckets(prev *reading, cur reading, secs float64) (out []BucketLive, now, before proxycore.Histogram) {
	earlier := map[bucketKey]proxycore.Histogram{}
	if prev != nil {
		for _, b := range prev.latency {
			earlier[bucketKey{b.Port, b.Bucket}] = b.Latency
		}
	}
	out = make([]BucketLive, 0, len(cur.latency)) // [] in JSON, not null
	for _, b := range cur.latency {
		k := bucketKey{b.Port, b.Bucket}
		p, ok := earlier[k]
		bl := BucketLive{Port: b.Port, Bucket: b.Bucket, Requests: b.Latency.Count,
			ReqRate: rate(b.Latency.Count, p.Count, ok, secs), P99ms: p99ms(b.Latency, p, ok)}
		if fc := cur.caches[k]; fc.on {
			bl.FrontCache = liveFrontCache(fc, prev, k)
		}
		if ok && b.Latency.Count >= p.Count {
			now, before = addHist(now, b.Latency), addHist(before, p)
		}
		out = append(out, bl)
	}
	return out, now, before
}

func liveFrontCache(fc fcTotals, prev *reading, k bucketKey) *FrontCacheLive {
	out := &FrontCacheLive{Hits: fc.hits, Misses: fc.misses, Bytes: fc.bytes,
		HitRate: none(), HitRatio: ratio(fc.hits, fc.hits+fc.misses)}
	if prev == nil {
		return out
	}
	if p, ok := prev.caches[k]; ok && fc.hits >= p.hits && fc.misses >= p.misses {
		hits := fc.hits - p.hits
		out.HitRate = ratio(hits, hits+fc.misses-p.misses)
	}
	return out
}

// liveNode sums the buckets and servers: requests and errors per second,
// the p99 of every bucket's clients, and the front caches' hit rate.
func liveNode(l Live, prev *reading, cur reading, clients, clientsBefore proxycore.Histogram) NodeLive {
	return NodeLive{ReqRate: sumOf(l.Buckets, func(b BucketLive) num { return b.ReqRate }),
		ErrRate: sumOf(l.Servers, func(s ServerLive) num { return s.ErrRate }),
		P99ms:   p99ms(clients, clientsBefore, prev != nil && clients.Counts != nil),
		HitRate: nodeHitRate(prev, cur)}
}

// nodeHitRate is the hit rate of every front cache's lookups between
// prev and cur.
func nodeHitRate(prev *reading, cur reading) num {
	if prev == nil {
		return none()
	}
	var hits, lookups uint64
	for k, fc := range cur.caches {
		p, ok := prev.caches[k]
		if !ok || !fc.on || fc.hits < p.hits || fc.misses < p.misses {
			continue
		}
		hits += fc.hits - p.hits
		lookups += fc.hits - p.hits + fc.misses - p.misses
	}
	return ratio(hits, lookups)
}

// sumOf adds f over items, skipping nones; none when every item is.
func sumOf[T any](items []T, f func(T) num) num {
	sum, any := 0.0, false
	for _, it := range items {
		if v := float64(f(it)); !math.IsNaN(v) {
			sum, any = sum+v, true
		}
	}
	if !any {
		return none()
	}
	return num(sum)
}
