package node

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/moxifleet/moxi/proxycore"
)

// metricsHandler serves GET /metrics: the proxy's counters (those of
// "stats proxy"), its maps, and Go's process metrics, from a registry
// of this node's own (no package-level registry). The proxy's values are
// read from its atomics when Prometheus scrapes, so exporting costs the
// request path nothing.
func (n *Node) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	if n.fleet != nil {
		reg.MustRegister(fleetCollector{n: n})
	}
	reg.MustRegister(n.sourceCollectors()...)
	reg.MustRegister(proxyCollector{n: n},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{n}})
}

// proxyCollector turns proxycore's samples into metrics at scrape time.
// Its metrics are not described ahead (an unchecked collector): the set
// of buckets comes and goes with the config.
type proxyCollector struct{ n *Node }

func (proxyCollector) Describe(chan<- *prometheus.Desc) {}

func (c proxyCollector) Collect(ch chan<- prometheus.Metric) {
	ps := c.n.currentProxy()
	if ps == nil {
		return
	}
	labels := []string{"port", "bucket"}
	ps.EachCounter(func(s proxycore.CounterSample) {
		name, help, kind := counterMetric(s)
		desc := prometheus.NewDesc(name, help, labels, nil)
		ch <- prometheus.MustNewConstMetric(desc, kind, float64(s.Value), strconv.Itoa(s.Port), s.Bucket)
	})
	version := prometheus.NewDesc("moxi_map_version", "Version of the map a bucket serves with: the raft index in a fleet, the count of configs applied otherwise.", labels, nil)
	servers := prometheus.NewDesc("moxi_map_servers", "Servers in the map a bucket serves with.", labels, nil)
	ps.EachMap(func(m proxycore.MapSample) {
		port := strconv.Itoa(m.Port)
		ch <- prometheus.MustNewConstMetric(version, prometheus.GaugeValue, float64(m.Version), port, m.Bucket)
		ch <- prometheus.MustNewConstMetric(servers, prometheus.GaugeValue, float64(m.Servers), port, m.Bucket)
	})
	collectData(ch, ps)
}

// counterMetric names a "stats proxy" counter in Prometheus' style:
// tot_X is the counter moxi_X_total, num_X the gauge moxi_X.
func counterMetric(s proxycore.CounterSample) (name, help string, kind prometheus.ValueType) {
	help = "moxi's stats proxy pstd_stats:" + s.Name + "."
	base := strings.TrimPrefix(strings.TrimPrefix(s.Name, "tot_"), "num_")
	if s.Gauge {
		return "moxi_" + base, help, prometheus.GaugeValue
	}
	return "moxi_" + base + "_total", help, prometheus.CounterValue
}

// slogPrinter is promhttp's error log on the node's logger.
type slogPrinter struct{ n *Node }

func (p slogPrinter) Println(v ...any) {
	p.n.logger.Warn("metrics scrape failed", "err", strings.TrimSpace(fmt.Sprintln(v...)))
}
