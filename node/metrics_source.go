package node

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/moxifleet/moxi/proxycore"
)

// sourceCollectors are the config source's metrics and the maps' beyond
// proxyCollector's: the REST streams (a standalone proxy's feeds, or in a
// fleet whatever this node runs while it leads, 0 on a follower), and the
// map propagation lag in a fleet or the maps' age on a standalone proxy
// (fleetCollector reports a fleet node's).
func (n *Node) sourceCollectors() []prometheus.Collector {
	var cs []prometheus.Collector
	if n.fleet != nil || len(n.feeds) > 0 {
		cs = append(cs, streamCollector{n: n})
	}
	if n.fleet != nil {
		return append(cs, n.fleet.lag.hist)
	}
	return append(cs, mapAgeCollector{n: n})
}

// streamCollector reports streamMeter at scrape time.
type streamCollector struct{ n *Node }

func (streamCollector) Describe(chan<- *prometheus.Desc) {}

func (c streamCollector) Collect(ch chan<- prometheus.Metric) {
	reconnects, up := c.n.streams.sample()
	ch <- prometheus.MustNewConstMetric(prometheus.NewDesc("moxi_rest_reconnects_total",
		"Times a REST config stream was opened again after its first connection (the same URL, or the next of the list).",
		nil, nil), prometheus.CounterValue, float64(reconnects))
	gauge(ch, "moxi_rest_stream_up", "REST config streams open on this node now (1 per -z REST section; 0 on a fleet's follower).",
		float64(up))
}

// mapAgeCollector is moxi_map_age_seconds on a standalone proxy: for
// each bucket with a map, the time since mapClock saw it applied.
type mapAgeCollector struct{ n *Node }

func (mapAgeCollector) Describe(chan<- *prometheus.Desc) {}

func (c mapAgeCollector) Collect(ch chan<- prometheus.Metric) {
	ps := c.n.currentProxy()
	if ps == nil {
		return
	}
	now := time.Now()
	ps.EachMap(func(s proxycore.MapSample) {
		if age, ok := c.n.clock.age(s, now); ok {
			gauge(ch, "moxi_map_age_seconds", "Seconds since the map a bucket serves with was applied on this node.",
				age.Seconds(), "port", strconv.Itoa(s.Port), "bucket", s.Bucket)
		}
	})
}
