package proxycore

// Read-only views of the proxy's counters and maps for exporters
// (node's Prometheus /metrics). They read the same atomics "stats proxy"
// reads, at scrape time: exporting costs the request path nothing.

// CounterSample is one bucket counter of "stats proxy" (pstd_stats).
type CounterSample struct {
	Port   int
	Bucket string
	Name   string // as stats proxy names it: "tot_upstream", "num_downstream_conn", ...
	Value  uint64
	Gauge  bool // a level (num_*), not a running total
}

// EachCounter calls fn for every counter of every bucket, buckets in
// port and name order.
func (s *Server) EachCounter(fn func(CounterSample)) {
	names := counterNames()
	s.eachBucket(func(b *bucket) {
		for k := counter(0); k < numCounters; k++ {
			fn(CounterSample{Port: b.cfg.Port, Bucket: b.cfg.Name, Name: names[k],
				Value: b.stats.get(k), Gauge: k.isGauge()})
		}
	})
}

// MapSample is the map a bucket serves with.
type MapSample struct {
	Port    int
	Bucket  string
	Version uint64
	Servers int
}

// EachMap calls fn for every bucket that has a map.
func (s *Server) EachMap(fn func(MapSample)) {
	s.eachBucket(func(b *bucket) {
		if rt := b.routing(); rt != nil {
			fn(MapSample{Port: b.cfg.Port, Bucket: b.cfg.Name, Version: rt.m.Version, Servers: len(rt.servers)})
		}
	})
}
