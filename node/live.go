package node

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/moxifleet/moxi/proxycore"
)

// The status page's live figures: what the proxy did between two
// readings of its running totals (about a second apart, see sampler.go).

// num is one figure: rounded to 3 decimals in JSON, which is plenty for
// a rate or a latency in ms and keeps /status/history small, and null
// when there is none (NaN: no request in the interval to take a p99 of,
// no earlier reading, a total that went back).
type num float64

func (v num) MarshalJSON() ([]byte, error) {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, math.Round(f*1000)/1000, 'f', -1, 64), nil
}

func (v *num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*v = num(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("status figure %q: %w", b, err)
	}
	*v = num(f)
	return nil
}

func none() num { return num(math.NaN()) }

// Live is GET /status's "live": the node's traffic over the last sample
// interval, and the running totals it was computed from.
type Live struct {
	Seq      uint64       `json:"seq"` // the sample's number; /status/history numbers its points alike
	At       time.Time    `json:"at"`
	Interval num          `json:"interval_s"` // seconds since the reading before
	Node     NodeLive     `json:"node"`
	Buckets  []BucketLive `json:"buckets"`
	Servers  []ServerLive `json:"servers"`
}

// NodeLive is the node as a whole, every bucket together.
type NodeLive struct {
	ReqRate num `json:"req_rate"`             // client requests answered /s
	ErrRate num `json:"err_rate"`             // server exchanges failed /s
	P99ms   num `json:"p99_ms"`               // client request latency
	HitRate num `json:"front_cache_hit_rate"` // of the interval's lookups, 0 to 1
}

// BucketLive is one bucket: its clients' requests (those that went to a
// server or the front cache) and its front cache.
type BucketLive struct {
	Port       int             `json:"port"`
	Bucket     string          `json:"bucket"`
	Requests   uint64          `json:"requests"`
	ReqRate    num             `json:"req_rate"`
	P99ms      num             `json:"p99_ms"`
	FrontCache *FrontCacheLive `json:"front_cache,omitempty"` // nil while the bucket has none
}

// FrontCacheLive is a bucket's front cache.
type FrontCacheLive struct {
	Hits     uint64 `json:"hits"`
	Misses   uint64 `json:"misses"`
	Bytes    uint64 `json:"bytes"`
	HitRate  num    `json:"hit_rate"`  // of the interval's lookups, 0 to 1
	HitRatio num    `json:"hit_ratio"` // of every lookup since the start, 0 to 1
}

// ServerLive is one server of one bucket's map, as the proxy sees it.
type ServerLive struct {
	Port        int    `json:"port"`
	Bucket      string `json:"bucket"`
	Addr        string `json:"addr"`
	Requests    uint64 `json:"requests"`
	Errors      uint64 `json:"errors"`
	Timeouts    uint64 `json:"timeouts"`
	Refused     uint64 `json:"refused"`
	Conns       int64  `json:"conns"`
	Blacklisted bool   `json:"blacklisted"`
	ReqRate     num    `json:"req_rate"`
	ErrRate     num    `json:"err_rate"`
	P99ms       num    `json:"p99_ms"` // reply latency of the interval's answered exchanges
}

type bucketKey struct {
	Port   int
	Bucket string
}

type serverKey struct {
	bucketKey
	Addr string
}

// fcTotals are a bucket's front cache totals.
type fcTotals struct {
	hits, misses, bytes uint64
	on                  bool // the bucket has a front cache
}

// reading is one read of the proxy's running totals.
type reading struct {
	at      time.Time
	servers []proxycore.ServerSample
	latency []proxycore.LatencySample
	caches  map[bucketKey]fcTotals
}

// rate is the per-second growth of a running total; none when there is
// no earlier value or the total went back (a rebuilt proxy).
func rate(cur, prev uint64, havePrev bool, secs float64) num {
	if !havePrev || cur < prev || secs <= 0 {
		return none()
	}
	return num(float64(cur-prev) / secs)
}

// p99ms is the 99th percentile, in ms, of what cur observed since prev;
// none without an observation in between.
func p99ms(cur, prev proxycore.Histogram, havePrev bool) num {
	if !havePrev {
		return none()
	}
	d := cur.Sub(prev)
	if d.Count == 0 {
		return none()
	}
	return num(d.Quantile(0.99) * 1000)
}

// ratio is part/whole, none when whole is 0.
func ratio(part, whole uint64) num {
	if whole == 0 {
		return none()
	}
	return num(float64(part) / float64(whole))
}

// addHist adds b's observations to a (same bounds), for the node's p99
// over every bucket.
func addHist(a, b proxycore.Histogram) proxycore.Histogram {
	if a.Counts == nil {
		a = proxycore.Histogram{Bounds: b.Bounds, Counts: make([]uint64, len(b.Counts))}
	}
	for i := range min(len(a.Counts), len(b.Counts)) {
		a.Counts[i] += b.Counts[i]
	}
	a.Count += b.Count
	a.Sum += b.Sum
	return a
}
