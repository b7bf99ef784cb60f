package node

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/moxifleet/moxi/proxycore"
)

// The data plane's own metrics beyond "stats proxy"'s counters:
// commands by outcome, latency histograms, per-server exchanges, the
// front cache and key stats. All read proxycore's atomics at scrape time.

// keyStatsExported bounds the keys /metrics lists per bucket: each is a
// label value, and a scrape must not grow with the keyspace.
const keyStatsExported = 20

// collectData sends the data plane's metrics of ps.
func collectData(ch chan<- prometheus.Metric, ps proxyServer) {
	bl := []string{"port", "bucket"}
	cmds := prometheus.NewDesc("moxi_commands_total",
		"Client commands by command and outcome: hit or miss per key of a get, ok when a server answered, error when the proxy could not get an answer.",
		append(bl, "command", "status"), nil)
	ps.EachCommand(func(s proxycore.CommandSample) {
		ch <- prometheus.MustNewConstMetric(cmds, prometheus.CounterValue, float64(s.Value),
			strconv.Itoa(s.Port), s.Bucket, s.Command, s.Status)
	})
	lat := prometheus.NewDesc("moxi_request_duration_seconds",
		"Latency of client requests a server or the front cache answered, from the request read to its reply ready.", bl, nil)
	ps.EachLatency(func(s proxycore.LatencySample) {
		ch <- constHistogram(lat, s.Latency, strconv.Itoa(s.Port), s.Bucket)
	})
	ch <- prometheus.MustNewConstMetric(prometheus.NewDesc("moxi_rejected_connections_total",
		"Client connections refused over -c (memcached's rejected_connections).", nil, nil),
		prometheus.CounterValue, float64(ps.RejectedConns()))
	collectServers(ch, ps)
	collectFrontCaches(ch, ps)
	collectKeyStats(ch, ps)
}

// constHistogram turns a proxycore histogram into Prometheus' form,
// whose buckets are cumulative.
func constHistogram(d *prometheus.Desc, h proxycore.Histogram, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	var cum uint64
	for i, b := range h.Bounds {
		cum += h.Counts[i]
		buckets[b] = cum
	}
	return prometheus.MustNewConstHistogram(d, h.Count, h.Sum, buckets, labels...)
}

func collectServers(ch chan<- prometheus.Metric, ps proxyServer) {
	l := []string{"port", "bucket", "server"}
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, l, nil) }
	reqs := d("moxi_server_requests_total", "Exchanges with a server that ended: answered or failed.")
	errs := d("moxi_server_errors_total", "Exchanges with a server that failed: connect, close, timeout or blacklisted.")
	tmo := d("moxi_server_timeouts_total", "Exchanges with a server that failed by downstream_timeout.")
	refused := d("moxi_server_blacklisted_requests_total", "Exchanges failed at once because the server was blacklisted after connect errors.")
	black := d("moxi_server_blacklisted", "1 while connect errors bar new connections to the server.")
	conns := d("moxi_server_connections", "Open connections to the server.")
	lat := d("moxi_server_request_duration_seconds", "Latency of a server's answered exchanges, from write to reply.")
	ps.EachServer(func(s proxycore.ServerSample) {
		v := []string{strconv.Itoa(s.Port), s.Bucket, s.Addr}
		ch <- prometheus.MustNewConstMetric(reqs, prometheus.CounterValue, float64(s.Requests), v...)
		ch <- prometheus.MustNewConstMetric(errs, prometheus.CounterValue, float64(s.Errors), v...)
		ch <- prometheus.MustNewConstMetric(tmo, prometheus.CounterValue, float64(s.Timeouts), v...)
		ch <- prometheus.MustNewConstMetric(refused, prometheus.CounterValue, float64(s.Refused), v...)
		ch <- prometheus.MustNewConstMetric(black, prometheus.GaugeValue, boolValue01(s.Blacklisted), v...)
		ch <- prometheus.MustNewConstMetric(conns, prometheus.GaugeValue, float64(s.Conns), v...)
		ch <- constHistogram(lat, s.Latency, v...)
	})
}

func collectFrontCaches(ch chan<- prometheus.Metric, ps proxyServer) {
	l := []string{"port", "bucket"}
	ev := prometheus.NewDesc("moxi_front_cache_evictions_total", "Front cache entries evicted to stay within front_cache_bytes.", l, nil)
	by := prometheus.NewDesc("moxi_front_cache_bytes", "Bytes the front cache's entries cost: keys, values and overhead.", l, nil)
	ps.EachFrontCache(func(s proxycore.FrontCacheSample) {
		port := strconv.Itoa(s.Port)
		ch <- prometheus.MustNewConstMetric(ev, prometheus.CounterValue, float64(s.Evictions), port, s.Bucket)
		ch <- prometheus.MustNewConstMetric(by, prometheus.GaugeValue, float64(s.Bytes), port, s.Bucket)
	})
}

func collectKeyStats(ch chan<- prometheus.Metric, ps proxyServer) {
	d := prometheus.NewDesc("moxi_key_stats",
		"The busiest tracked keys' counts (-Z key_stats_*) since their counting last started: gets, hits, misses, sets.",
		[]string{"port", "bucket", "key", "count"}, nil)
	ps.EachKeyStat(keyStatsExported, func(s proxycore.KeyStatSample) {
		port := strconv.Itoa(s.Port)
		for _, c := range []struct {
			name string
			v    uint64
		}{{"gets", s.Gets}, {"hits", s.Hits}, {"misses", s.Misses}, {"sets", s.Sets}} {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(c.v), port, s.Bucket, s.Key, c.name)
		}
	})
}
