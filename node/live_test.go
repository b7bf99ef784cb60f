package node

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/moxifleet/moxi/proxycore"
)

// hist is a histogram over 1, 2 and 5 ms (and +Inf) with counts per bin.
func hist(counts ...uint64) proxycore.Histogram {
	h := proxycore.Histogram{Bounds: []float64{0.001, 0.002, 0.005}, Counts: counts}
	for _, c := range counts {
		h.Count += c
	}
	return h
}

func server(addr string, requests, errors uint64, lat proxycore.Histogram) proxycore.ServerSample {
	return proxycore.ServerSample{Port: 11211, Bucket: "default", Addr: addr, Requests: requests, Errors: errors, Latency: lat}
}

func t0() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }

// twoReadings are 2 s apart: server a made 200 exchanges (4 failed),
// all answered within 1 to 2 ms; b is new; the bucket's clients made 300
// requests; its front cache answered 30 of 40 lookups.
func twoReadings() (*reading, reading) {
	k := bucketKey{11211, "default"}
	prev := &reading{at: t0(),
		servers: []proxycore.ServerSample{server("a:1", 100, 1, hist(5, 0, 0, 0))},
		latency: []proxycore.LatencySample{{Port: 11211, Bucket: "default", Latency: hist(10, 0, 0, 0)}},
		caches:  map[bucketKey]fcTotals{k: {hits: 10, misses: 10, on: true}}}
	cur := reading{at: t0().Add(2 * time.Second),
		servers: []proxycore.ServerSample{server("a:1", 300, 5, hist(5, 200, 0, 0)), server("b:1", 7, 0, hist(7, 0, 0, 0))},
		latency: []proxycore.LatencySample{{Port: 11211, Bucket: "default", Latency: hist(10, 0, 300, 0)}},
		caches:  map[bucketKey]fcTotals{k: {hits: 40, misses: 20, bytes: 99, on: true}}}
	return prev, cur
}

func TestComputeLiveRates(t *testing.T) {
	prev, cur := twoReadings()
	l := computeLive(prev, cur, 7)
	if l.Seq != 7 || !l.At.Equal(cur.at) || l.Interval != 2 {
		t.Fatalf("seq %d, at %v, interval %v", l.Seq, l.At, l.Interval)
	}
	a, b := l.Servers[0], l.Servers[1]
	if a.Addr != "a:1" || a.ReqRate != 100 || a.ErrRate != 2 || a.Requests != 300 || a.Errors != 5 {
		t.Errorf("server a: %+v; want 100 req/s, 2 err/s", a)
	}
	// 200 answers in (1 ms, 2 ms]: the 198th is 99% into that bin.
	if math.Abs(float64(a.P99ms)-1.99) > 1e-9 {
		t.Errorf("server a p99 = %v ms, want 1.99", a.P99ms)
	}
	if !isNaN(b.ReqRate) || !isNaN(b.ErrRate) || !isNaN(b.P99ms) || b.Requests != 7 {
		t.Errorf("server b, new since the last reading: %+v; want no rates", b)
	}
	bl := l.Buckets[0]
	if bl.ReqRate != 150 || math.Abs(float64(bl.P99ms)-(2+3*0.99)) > 1e-9 {
		t.Errorf("bucket: %v req/s, p99 %v ms; want 150, 4.97", bl.ReqRate, bl.P99ms)
	}
	fc := bl.FrontCache
	if fc == nil || fc.HitRate != 0.75 || math.Abs(float64(fc.HitRatio)-40.0/60) > 1e-12 || fc.Bytes != 99 {
		t.Fatalf("front cache: %+v; want hit rate 0.75, ratio 2/3", fc)
	}
	if l.Node.ReqRate != 150 || l.Node.ErrRate != 2 || l.Node.HitRate != 0.75 || l.Node.P99ms != bl.P99ms {
		t.Errorf("node: %+v; want the bucket's figures and server a's errors", l.Node)
	}
}

func TestComputeLiveWithoutTraffic(t *testing.T) {
	_, cur := twoReadings()
	next := cur
	next.at = cur.at.Add(time.Second)
	l := computeLive(&cur, next, 8)
	a := l.Servers[0]
	if a.ReqRate != 0 || a.ErrRate != 0 || !isNaN(a.P99ms) {
		t.Errorf("idle server: %+v; want 0 req/s, 0 err/s, no p99", a)
	}
	if fc := l.Buckets[0].FrontCache; !isNaN(fc.HitRate) || isNaN(fc.HitRatio) {
		t.Errorf("idle front cache: %+v; want no hit rate, the overall ratio", fc)
	}
	if !isNaN(l.Node.P99ms) || !isNaN(l.Node.HitRate) {
		t.Errorf("idle node: %+v", l.Node)
	}
}

func TestComputeLiveFirstReadingAndReset(t *testing.T) {
	prev, cur := twoReadings()
	first := computeLive(nil, *prev, 1)
	if s := first.Servers[0]; !isNaN(s.ReqRate) || s.Requests != 100 || !isNaN(first.Node.ReqRate) {
		t.Errorf("first reading: %+v, node %+v; want totals and no rates", s, first.Node)
	}
	// A total that went back (a rebuilt proxy) is no rate, not a huge one.
	l := computeLive(&cur, *prev, 2)
	if s := l.Servers[0]; !isNaN(s.ReqRate) || !isNaN(s.ErrRate) {
		t.Errorf("after a reset: %+v", s)
	}
	if !isNaN(l.Buckets[0].FrontCache.HitRate) || !isNaN(l.Node.HitRate) {
		t.Errorf("front cache after a reset: %+v", l.Buckets[0].FrontCache)
	}
}

func TestNumJSON(t *testing.T) {
	b, err := json.Marshal([]num{1.23456, num(math.NaN()), 2, 1000.0004, 0})
	if err != nil || string(b) != "[1.235,null,2,1000,0]" {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	var back []num
	if err := json.Unmarshal(b, &back); err != nil || back[0] != 1.235 || !isNaN(back[1]) || back[3] != 1000 {
		t.Fatalf("unmarshal: %v, %v", back, err)
	}
}

// fakeLive is a liveSource with fixed totals.
type fakeLive struct{ requests, hits uint64 }

func (f *fakeLive) EachServer(fn func(proxycore.ServerSample)) {
	fn(server("a:1", f.requests, 0, hist(f.requests, 0, 0, 0)))
}

func (f *fakeLive) EachCounter(fn func(proxycore.CounterSample)) {
	fn(proxycore.CounterSample{Port: 11211, Bucket: "default", Name: "tot_front_cache_hits", Value: f.hits})
	fn(proxycore.CounterSample{Port: 11211, Bucket: "default", Name: "tot_front_cache_misses", Value: 1})
	fn(proxycore.CounterSample{Port: 11211, Bucket: "default", Name: "tot_upstream", Value: 5})
}

func (f *fakeLive) EachLatency(fn func(proxycore.LatencySample)) {
	fn(proxycore.LatencySample{Port: 11211, Bucket: "default", Latency: hist(f.requests, 0, 0, 0)})
}

func (f *fakeLive) EachFrontCache(fn func(proxycore.FrontCacheSample)) {
	fn(proxycore.FrontCacheSample{Port: 11211, Bucket: "default", Bytes: 42})
}

func TestSamplerReadsTheProxy(t *testing.T) {
	src := &fakeLive{}
	var proxy liveSource // none yet, as on a fleet node before its map
	s := newSampler(func() liveSource { return proxy })
	s.sample(t0())
	if s.live() != nil {
		t.Fatal("figures without a proxy")
	}
	proxy = src
	s.sample(t0().Add(time.Second))
	if s.live() != nil {
		t.Fatal("figures from one reading")
	}
	src.requests, src.hits = 50, 9
	s.sample(t0().Add(3 * time.Second))
	l := s.live()
	if l == nil || l.Seq != 1 || l.Servers[0].ReqRate != 25 || l.Buckets[0].FrontCache.HitRatio != 0.9 ||
		l.Buckets[0].FrontCache.Bytes != 42 || l.Node.HitRate != 1 {
		t.Fatalf("live: %+v", l)
	}
	if h := s.history("server"); h.Seq != 1 || len(h.Times) != 1 || h.Series["server|11211|default|a:1|req_rate"][0] != 25 {
		t.Errorf("history: %+v", h)
	}
}
