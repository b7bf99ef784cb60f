package node

import (
	"context"
	"sync"
	"time"

	"github.com/moxifleet/moxi/proxycore"
)

// sampleEvery is how often the sampler reads the proxy: the status
// page's resolution, and the interval its rates are over.
const sampleEvery = time.Second

// liveSource is what the sampler reads of the proxy (proxycore.Server).
type liveSource interface {
	EachServer(fn func(proxycore.ServerSample))
	EachCounter(fn func(proxycore.CounterSample))
	EachLatency(fn func(proxycore.LatencySample))
	EachFrontCache(fn func(proxycore.FrontCacheSample))
}

// sampler reads the proxy's running totals every sampleEvery, keeps the
// figures of the last interval for /status and of the last 15 minutes
// for /status/history. One goroutine, fixed memory per series.
type sampler struct {
	source func() liveSource // nil until the proxy exists

	mu   sync.Mutex
	prev *reading
	seq  uint64
	last *Live // nil before the second reading
	hist *history
}

func newSampler(source func() liveSource) *sampler {
	return &sampler{source: source, hist: newHistory()}
}

// run samples until ctx ends.
func (s *sampler) run(ctx context.Context) {
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	s.sample(time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			s.sample(now)
		}
	}
}

// sample reads the proxy and, from the second reading on, publishes the
// interval's figures.
func (s *sampler) sample(now time.Time) {
	src := s.source()
	if src == nil {
		return
	}
	cur := read(src, now)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.prev != nil {
		s.seq++
		l := computeLive(s.prev, cur, s.seq)
		s.last = &l
		s.hist.record(l)
	}
	s.prev = &cur
}

// live returns the last interval's figures, nil before there are any.
func (s *sampler) live() *Live {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// history copies the series of scope ("" for all).
func (s *sampler) history(scope string) HistoryView {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hist.view(scope)
}

// read takes one reading of src's running totals.
func read(src liveSource, now time.Time) reading {
	r := reading{at: now, caches: map[bucketKey]fcTotals{}}
	src.EachServer(func(s proxycore.ServerSample) { r.servers = append(r.servers, s) })
	src.EachLatency(func(l proxycore.LatencySample) { r.latency = append(r.latency, l) })
	src.EachCounter(func(c proxycore.CounterSample) {
		k := bucketKey{c.Port, c.Bucket}
		fc := r.caches[k]
		switch c.Name {
		case "tot_front_cache_hits":
			fc.hits = c.Value
		case "tot_front_cache_misses":
			fc.misses = c.Value
		default:
			return
		}
		r.caches[k] = fc
	})
	src.EachFrontCache(func(f proxycore.FrontCacheSample) {
		k := bucketKey{f.Port, f.Bucket}
		fc := r.caches[k]
		fc.on, fc.bytes = true, f.Bytes
		r.caches[k] = fc
	})
	return r
}
