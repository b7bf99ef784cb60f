package proxycore

import "sync/atomic"

// counter names a proxy statistic. Counters are a fixed array of atomics so
// that counting on the request path is one atomic add and no map lookup.
type counter int

// The pstd_stats counters moxi reports in "stats proxy", in its order.
// Only the ones this proxy can meaningfully count are listed.
const (
	numUpstream counter = iota
	totUpstream
	numDownstreamConn
	totDownstreamConn
	totDownstreamConnectStarted
	totDownstreamConnect
	totDownstreamConnectFailed
	totDownstreamConnectTimeout
	totDownstreamConnectInterval
	totDownstreamAuth
	totDownstreamAuthFailed
	totDownstreamBucket
	totDownstreamBucketFailed
	totDownstreamTimeout
	totWaitQueueTimeout
	totAuthTimeout
	totAssignDownstream
	totMultigetKeys
	totMultigetKeysDedupe
	totMultigetBytesDedupe
	totRetry
	totRetryVBucket
	totCmdTime
	totCmdCount
	totClientOverflow
	totOptimizeSets
	totFrontCacheHits
	totFrontCacheMisses
	totFrontCacheAdds
	totFrontCacheDeletes
	numCounters
)

// counterNames returns the counters' names in "stats proxy" (a function,
// so that no table is package-level mutable state).
func counterNames() [numCounters]string {
	return [numCounters]string{
		numUpstream:                  "num_upstream",
		totUpstream:                  "tot_upstream",
		numDownstreamConn:            "num_downstream_conn",
		totDownstreamConn:            "tot_downstream_conn",
		totDownstreamConnectStarted:  "tot_downstream_connect_started",
		totDownstreamConnect:         "tot_downstream_connect",
		totDownstreamConnectFailed:   "tot_downstream_connect_failed",
		totDownstreamConnectTimeout:  "tot_downstream_connect_timeout",
		totDownstreamConnectInterval: "tot_downstream_connect_interval",
		totDownstreamAuth:            "tot_downstream_auth",
		totDownstreamAuthFailed:      "tot_downstream_auth_failed",
		totDownstreamBucket:          "tot_downstream_bucket",
		totDownstreamBucketFailed:    "tot_downstream_bucket_failed",
		totDownstreamTimeout:         "tot_downstream_timeout",
		totWaitQueueTimeout:          "tot_wait_queue_timeout",
		totAuthTimeout:               "tot_auth_timeout",
		totAssignDownstream:          "tot_assign_downstream",
		totMultigetKeys:              "tot_multiget_keys",
		totMultigetKeysDedupe:        "tot_multiget_keys_dedupe",
		totMultigetBytesDedupe:       "tot_multiget_bytes_dedupe",
		totRetry:                     "tot_retry",
		totRetryVBucket:              "tot_retry_vbucket",
		totCmdTime:                   "tot_cmd_time",
		totCmdCount:                  "tot_cmd_count",
		totClientOverflow:            "tot_client_overflow",
		totOptimizeSets:              "tot_optimize_sets",
		totFrontCacheHits:            "tot_front_cache_hits",
		totFrontCacheMisses:          "tot_front_cache_misses",
		totFrontCacheAdds:            "tot_front_cache_adds",
		totFrontCacheDeletes:         "tot_front_cache_deletes",
	}
}

// gauges are not reset by "stats proxy reset", as in moxi.
func (c counter) isGauge() bool { return c == numUpstream || c == numDownstreamConn }

// counters is one bucket's statistics.
type counters struct {
	v [numCounters]atomic.Uint64
	// -Z time_stats=1: stats proxy timings (timings.go)
	connect, reserved histogram
}

func (c *counters) inc(k counter)           { c.v[k].Add(1) }
func (c *counters) add(k counter, n uint64) { c.v[k].Add(n) }
func (c *counters) dec(k counter)           { c.v[k].Add(^uint64(0)) }
func (c *counters) get(k counter) uint64    { return c.v[k].Load() }

func (c *counters) reset() {
	for k := counter(0); k < numCounters; k++ {
		if !k.isGauge() {
			c.v[k].Store(0)
		}
	}
	c.connect.reset()
	c.reserved.reset()
}
