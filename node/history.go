package node

import (
	"math"
	"strconv"
	"strings"
)

// histLen is how many samples every series keeps: 15 minutes at one a
// second, what the status page plots.
const histLen = 900

// ring holds the last histLen values pushed, overwriting the oldest. Its
// values are a fixed array: pushing never allocates.
type ring[T any] struct {
	vals [histLen]T
	next int // where the next value goes
	n    int // values held, up to histLen
}

func (r *ring[T]) push(v T) {
	r.vals[r.next] = v
	r.next = (r.next + 1) % histLen
	r.n = min(r.n+1, histLen)
}

// appendTo appends the values held to dst, oldest first.
func (r *ring[T]) appendTo(dst []T) []T {
	start := (r.next - r.n + histLen) % histLen
	if start+r.n <= histLen {
		return append(dst, r.vals[start:start+r.n]...)
	}
	dst = append(dst, r.vals[start:]...)
	return append(dst, r.vals[:r.next]...)
}

// seriesKey names one plotted figure: Scope is "node" (Port 0, no
// bucket), "bucket" or "server" (with Addr); Metric is the JSON name
// of the figure in Live. The page builds the same keys from /status.
type seriesKey struct {
	Scope  string
	Port   int
	Bucket string
	Addr   string
	Metric string
}

// String is "scope|port|bucket|addr|metric".
func (k seriesKey) String() string {
	return strings.Join([]string{k.Scope, strconv.Itoa(k.Port), k.Bucket, k.Addr, k.Metric}, "|")
}

// series is one figure's last histLen values, aligned with
// history.times: a point the figure did not have is NaN.
type series struct {
	vals ring[num]
	seen uint64 // seq of the last sample that had the figure
}

// history keeps every live figure of the last histLen samples. It is
// plain data: the sampler's lock guards it.
type history struct {
	seq    uint64      // the newest sample's number
	times  ring[int64] // each sample's time, Unix milliseconds
	series map[seriesKey]*series
}

func newHistory() *history { return &history{series: map[seriesKey]*series{}} }

// record adds l as the newest sample. Once every series is full and the
// set of servers stays the same, it allocates nothing.
func (h *history) record(l Live) {
	h.seq = l.Seq
	h.times.push(l.At.UnixMilli())
	eachFigure(l, func(k seriesKey, v num) {
		s := h.series[k]
		if s == nil {
			s = h.newSeries()
			h.series[k] = s
		}
		s.vals.push(v)
		s.seen = l.Seq
	})
	for k, s := range h.series {
		if s.seen == l.Seq {
			continue
		}
		s.vals.push(num(math.NaN()))
		if l.Seq-s.seen >= histLen { // a server gone for the whole window
			delete(h.series, k)
		}
	}
}

// newSeries starts a series aligned with times, whose newest point is
// about to be pushed: every earlier point is NaN.
func (h *history) newSeries() *series {
	s := &series{}
	for i := range s.vals.vals {
		s.vals.vals[i] = num(math.NaN())
	}
	s.vals.n = h.times.n - 1
	s.vals.next = (h.times.next - 1 + histLen) % histLen
	return s
}

// eachFigure calls fn with every plotted figure of l.
func eachFigure(l Live, fn func(seriesKey, num)) {
	fn(seriesKey{Scope: "node", Metric: "req_rate"}, l.Node.ReqRate)
	fn(seriesKey{Scope: "node", Metric: "err_rate"}, l.Node.ErrRate)
	fn(seriesKey{Scope: "node", Metric: "p99_ms"}, l.Node.P99ms)
	fn(seriesKey{Scope: "node", Metric: "front_cache_hit_rate"}, l.Node.HitRate)
	for _, b := range l.Buckets {
		fn(seriesKey{Scope: "bucket", Port: b.Port, Bucket: b.Bucket, Metric: "req_rate"}, b.ReqRate)
		fn(seriesKey{Scope: "bucket", Port: b.Port, Bucket: b.Bucket, Metric: "p99_ms"}, b.P99ms)
		if b.FrontCache != nil {
			fn(seriesKey{Scope: "bucket", Port: b.Port, Bucket: b.Bucket, Metric: "hit_rate"}, b.FrontCache.HitRate)
		}
	}
	for _, s := range l.Servers {
		k := seriesKey{Scope: "server", Port: s.Port, Bucket: s.Bucket, Addr: s.Addr}
		for _, f := range [...]struct {
			metric string
			v      num
		}{{"req_rate", s.ReqRate}, {"err_rate", s.ErrRate}, {"p99_ms", s.P99ms}} {
			k.Metric = f.metric
			fn(k, f.v)
		}
	}
}

// HistoryView is GET /status/history: the last 15 minutes of the live
// figures, every series aligned with Times.
type HistoryView struct {
	Seq    uint64           `json:"seq"`   // the newest point's sample number (Live.Seq)
	Times  []int64          `json:"times"` // Unix milliseconds, oldest first
	Series map[string][]num `json:"series"`
}

// view copies the series whose scope is scope ("" for all).
func (h *history) view(scope string) HistoryView {
	v := HistoryView{Seq: h.seq, Times: h.times.appendTo(make([]int64, 0, h.times.n)), Series: map[string][]num{}}
	for k, s := range h.series {
		if scope == "" || k.Scope == scope {
			v.Series[k.String()] = s.vals.appendTo(make([]num, 0, s.vals.n))
		}
	}
	return v
}
