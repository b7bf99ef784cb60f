package e2e

// /metrics of the config source and the fleet's maps: REST stream
// reconnects (counted exactly, standalone and on a fleet's leader), the
// map propagation lag on every node of a fleet, and the map age of a
// standalone proxy.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// dropMockStreams makes the mock end its open streams and checks it had
// want open.
func dropMockStreams(t *testing.T, m *mockProc, want int) {
	t.Helper()
	var reply struct{ Dropped int }
	if err := json.Unmarshal(m.post(t, "/mock/drop-streams", http.StatusOK), &reply); err != nil {
		t.Fatal(err)
	}
	if reply.Dropped != want {
		t.Fatalf("the mock dropped %d streams, want %d", reply.Dropped, want)
	}
}

// waitMetrics polls a node's /metrics until every sample in want has its
// value.
func waitMetrics(t *testing.T, admin string, timeout time.Duration, want map[string]float64) map[string]float64 {
	t.Helper()
	var got map[string]float64
	eventually(t, timeout, func() error {
		got = scrape(t, "http://"+admin+"/metrics")
		for name, v := range want {
			if g, ok := got[name]; !ok || g != v {
				return fmt.Errorf("%s = %v (present %v), want %v", name, g, ok, v)
			}
		}
		return nil
	})
	return got
}

// TestMetricsRESTReconnects: a standalone proxy following the mock through
// a fail-over list whose first URL is dead. Its first connection (on the
// second URL) is no reconnect; each stream the mock ends after that is
// one, exactly, and the stream is up again after each.
func TestMetricsRESTReconnects(t *testing.T) {
	requireTool(t, "promtool")
	m := startMock(t, "-rest", "127.0.0.1:0", "-nodes", "2", "-vbuckets", "64")
	admin := "127.0.0.1:" + strconv.Itoa(freePort(t))
	dead := "http://" + addrOf(freePort(t)) + "/pools/default/bucketsStreaming/default"
	started := time.Now()
	moxi := startMoxi(t, func(port int) []string {
		return []string{"-Z", fmt.Sprintf("port_listen=%d,admin_listen=%s", port, admin), dead + "," + m.stream}
	})
	waitServing(t, newVBClient(moxi.Addr), startTimeout)
	port := moxi.Addr[len("127.0.0.1:"):]
	labels := `{bucket="default",port="` + port + `"}`
	first := waitMetrics(t, admin, startTimeout, map[string]float64{"moxi_rest_stream_up": 1, "moxi_rest_reconnects_total": 0})
	if age, ok := first["moxi_map_age_seconds"+labels]; !ok || age < 0 || age > time.Since(started).Seconds() {
		t.Errorf("moxi_map_age_seconds%s = %v (present %v), want between 0 and %v", labels, age, ok, time.Since(started))
	}
	before, err := mockStatsOf(m)
	if err != nil {
		t.Fatal(err)
	}

	const drops = 3
	for i := 1; i <= drops; i++ {
		dropMockStreams(t, m, 1)
		waitMetrics(t, admin, 10*time.Second, map[string]float64{"moxi_rest_stream_up": 1, "moxi_rest_reconnects_total": float64(i)})
	}
	after := checkStreams(t, m, 1)
	if after.StreamsTotal != before.StreamsTotal+drops {
		t.Errorf("mock streams_total %d -> %d, want %d more", before.StreamsTotal, after.StreamsTotal, drops)
	}
	// Every reconnect delivered the config again: a standalone proxy
	// applies it as a new version, which restarts the map's age.
	body := scrape(t, "http://"+admin+"/metrics")
	if got := body["moxi_rest_reconnects_total"]; got != drops {
		t.Errorf("moxi_rest_reconnects_total = %v after %d dropped streams", got, drops)
	}
	if v := body["moxi_map_version"+labels]; v < 1+drops {
		t.Errorf("moxi_map_version%s = %v, want at least %d (a config per stream)", labels, v, 1+drops)
	}
	if age, ok := body["moxi_map_age_seconds"+labels]; !ok || age < 0 || age > time.Since(started).Seconds() {
		t.Errorf("moxi_map_age_seconds%s = %v (present %v) after the reconnects", labels, age, ok)
	}
	checkPromtool(t, scrapeRaw(t, "http://"+admin+"/metrics"))
}

// TestFleetSourceMetrics: in a 3-node fleet only the leader streams, so
// only it counts the reconnect when the mock ends the stream; a config the
// mock pushes (a failover) reaches every node, each of which records its
// propagation lag, under 5 s, in /metrics and /status.
func TestFleetSourceMetrics(t *testing.T) {
	requireTool(t, "promtool")
	m := startMock(t, fleetMockArgs()...)
	f := startFleet(t, 3, fleetOptions{Source: fleetSource(m)})
	v0, _ := f.waitStable(t, f.Nodes, 200*time.Millisecond, startTimeout, nil)
	lead, followers := f.leader(t, f.Nodes)
	waitMetrics(t, lead.Admin, startTimeout, map[string]float64{"moxi_rest_stream_up": 1, "moxi_rest_reconnects_total": 0})
	before := make([]map[string]float64, len(f.Nodes))
	for i, nd := range f.Nodes {
		before[i] = scrape(t, "http://"+nd.Admin+"/metrics")
	}
	for _, nd := range followers {
		waitMetrics(t, nd.Admin, time.Second, map[string]float64{"moxi_rest_stream_up": 0, "moxi_rest_reconnects_total": 0})
	}

	// A pushed config: one data node fails over, the map loses a server.
	pushed := time.Now()
	m.post(t, "/mock/failover?node=1", http.StatusOK)
	v := f.waitConverged(t, f.Nodes, 10*time.Second, func(sts []fleetStatus) error {
		for _, st := range sts {
			if st.Maps[0].Servers != 1 {
				return fmt.Errorf("%s: map of %d servers", st.Node, st.Maps[0].Servers)
			}
		}
		return nil
	})
	bound := time.Since(pushed)
	if v <= v0 {
		t.Fatalf("version %d after the failover, not above %d", v, v0)
	}
	for i, nd := range f.Nodes {
		body := scrape(t, "http://"+nd.Admin+"/metrics")
		count := body["moxi_map_propagation_seconds_count"] - before[i]["moxi_map_propagation_seconds_count"]
		under5 := body[`moxi_map_propagation_seconds_bucket{le="5"}`] - before[i][`moxi_map_propagation_seconds_bucket{le="5"}`]
		if count < 1 || under5 != count {
			t.Errorf("%s: %v more propagation samples, %v of them under 5 s; want at least 1, all under 5 s", nd.Name, count, under5)
		}
		st, err := nd.status()
		if err != nil {
			t.Fatal(err)
		}
		mi := st.Maps[0]
		if mi.Version != v || mi.PropagationMS == nil || *mi.PropagationMS < 0 || *mi.PropagationMS > float64(min(bound, 5*time.Second).Milliseconds()) {
			t.Errorf("%s /status map: version %d, propagation_ms %v; want version %d, at most %v", nd.Name, mi.Version, mi.PropagationMS, v, min(bound, 5*time.Second))
		} else {
			t.Logf("%s: version %d applied %.1f ms after the leader proposed it", nd.Name, v, *mi.PropagationMS)
		}
	}

	// The leader's stream ends: it alone reconnects, once.
	streams := checkStreams(t, m, 1)
	dropMockStreams(t, m, 1)
	waitMetrics(t, lead.Admin, 10*time.Second, map[string]float64{"moxi_rest_stream_up": 1, "moxi_rest_reconnects_total": 1})
	if s := checkStreams(t, m, 1); s.StreamsTotal != streams.StreamsTotal+1 {
		t.Errorf("mock streams_total %d -> %d, want one more", streams.StreamsTotal, s.StreamsTotal)
	}
	for _, nd := range followers {
		body := scrape(t, "http://"+nd.Admin+"/metrics")
		if body["moxi_rest_stream_up"] != 0 || body["moxi_rest_reconnects_total"] != 0 {
			t.Errorf("follower %s: moxi_rest_stream_up %v, moxi_rest_reconnects_total %v; want 0, 0",
				nd.Name, body["moxi_rest_stream_up"], body["moxi_rest_reconnects_total"])
		}
	}
	checkPromtool(t, scrapeRaw(t, "http://"+followers[0].Admin+"/metrics"))
	checkPromtool(t, scrapeRaw(t, "http://"+lead.Admin+"/metrics"))
}
