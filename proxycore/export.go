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

// ServerSample is one server's exchanges in one bucket, for exporters.
type ServerSample struct {
	Port        int
	Bucket      string
	Addr        string    // host:port
	Requests    uint64    // exchanges finished: replies and failures
	Errors      uint64    // exchanges that failed (connect, close, timeout, blacklisted)
	Timeouts    uint64    // exchanges failed by downstream_timeout
	Refused     uint64    // exchanges refused at once while the server was blacklisted
	Blacklisted bool      // connect errors bar new connections now
	Conns       int64     // open connections
	Latency     Histogram // reply latency of exchanges answered, from write to reply
}

// EachServer calls fn for every server of every bucket's current map,
// buckets in port and name order, servers in map order.
func (s *Server) EachServer(fn func(ServerSample)) {
	s.eachBucket(func(b *bucket) {
		rt := b.routing()
		if rt == nil {
			return
		}
		for _, d := range rt.servers {
			fn(d.sample(b.cfg.Port, b.cfg.Name))
		}
	})
}

// CommandSample is how many of one command ended with one status.
type CommandSample struct {
	Port    int
	Bucket  string
	Command string // get, set, mg, ... (commandNames)
	Status  string // hit, miss, ok, error (see cmdstats.go)
	Value   uint64
}

// EachCommand calls fn for every command and status counted at least once.
func (s *Server) EachCommand(fn func(CommandSample)) {
	names, statuses := commandNames(), commandStatusNames()
	s.eachBucket(func(b *bucket) {
		for c := range numCommandKinds {
			for st := range numCommandStatuses {
				if v := b.cmds.v[c][st].Load(); v > 0 {
					fn(CommandSample{Port: b.cfg.Port, Bucket: b.cfg.Name, Command: names[c], Status: statuses[st], Value: v})
				}
			}
		}
	})
}

// LatencySample is a bucket's request latency: from the client's request
// read to its reply ready, for requests that went to a server or the
// front cache.
type LatencySample struct {
	Port    int
	Bucket  string
	Latency Histogram
}

// EachLatency calls fn for every bucket.
func (s *Server) EachLatency(fn func(LatencySample)) {
	s.eachBucket(func(b *bucket) {
		fn(LatencySample{Port: b.cfg.Port, Bucket: b.cfg.Name, Latency: b.latency.snapshot()})
	})
}

// FrontCacheSample is a bucket's front cache, for exporters.
type FrontCacheSample struct {
	Port                          int
	Bucket                        string
	Hits, Misses, Adds, Evictions uint64
	Bytes                         uint64 // cost of the entries held: key, value and overhead bytes
}

// EachFrontCache calls fn for every bucket whose front cache is on.
func (s *Server) EachFrontCache(fn func(FrontCacheSample)) {
	s.eachBucket(func(b *bucket) {
		if b.fc != nil {
			fn(b.fc.sample(b.cfg.Port, b.cfg.Name))
		}
	})
}

// KeyStatSample is one tracked key's counts (-Z key_stats_*) since its
// counting (re)started.
type KeyStatSample struct {
	Port                     int
	Bucket                   string
	Key                      string
	Gets, Hits, Misses, Sets uint64
}

// EachKeyStat calls fn for the n busiest keys of every bucket whose key
// stats are on.
func (s *Server) EachKeyStat(n int, fn func(KeyStatSample)) {
	s.eachBucket(func(b *bucket) {
		if b.ks == nil {
			return
		}
		for _, ks := range b.ks.top(n) {
			fn(KeyStatSample{Port: b.cfg.Port, Bucket: b.cfg.Name, Key: ks.key,
				Gets: ks.gets, Hits: ks.hits, Misses: ks.misses, Sets: ks.sets})
		}
	})
}
