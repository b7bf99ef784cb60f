package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMetricsStandalone: a standalone proxy with -Z admin_listen serves
// Prometheus' /metrics; after known traffic the counters say exactly
// what happened, and promtool accepts the exposition.
func TestMetricsStandalone(t *testing.T) {
	t.Parallel()
	requireTool(t, "promtool")
	admin := "127.0.0.1:" + strconv.Itoa(freePort(t))
	mcs := startMemcacheds(t, 2)
	started := time.Now()
	proxy := startProxy(t, addrs(mcs), "admin_listen="+admin)
	waitHTTP(t, "http://"+admin+"/health", http.StatusOK)
	port := strings.TrimPrefix(proxy.Addr[strings.LastIndexByte(proxy.Addr, ':'):], ":")
	labels := `{bucket="default",port="` + port + `"}`
	before := scrape(t, "http://"+admin+"/metrics") // the harness's readiness probe connected once

	const clients = 7
	for i := range clients {
		rc := dial(t, proxy.Addr)
		rc.expect(fmt.Sprintf("set m%d 0 0 1\r\nx\r\n", i), "STORED\r\n")
		rc.c.Close()
	}
	rc := dial(t, proxy.Addr)
	rc.expect("get m0 m1 m1 m2\r\n", "VALUE m0 0 1\r\nx\r\nVALUE m1 0 1\r\nx\r\nVALUE m1 0 1\r\nx\r\nVALUE m2 0 1\r\nx\r\nEND\r\n")

	body := scrape(t, "http://"+admin+"/metrics")
	for name, want := range map[string]float64{ // counters: what this traffic added
		"moxi_upstream_total" + labels:              clients + 1,
		"moxi_multiget_keys_total" + labels:         4,
		"moxi_multiget_keys_dedupe_total" + labels:  1,
		"moxi_multiget_bytes_dedupe_total" + labels: float64(len("VALUE m1 0 1\r\nx\r\n")),
	} {
		if got, ok := body[name]; !ok || got-before[name] != want {
			t.Errorf("%s grew by %v (present %v), want %v", name, got-before[name], ok, want)
		}
	}
	// Levels; the closed clients leave num_upstream as moxi notices.
	eventually(t, 5*time.Second, func() error {
		body := scrape(t, "http://"+admin+"/metrics")
		for name, want := range map[string]float64{
			"moxi_upstream" + labels:    1, // the client still connected
			"moxi_map_servers" + labels: 2,
			"moxi_map_version" + labels: 0,
		} {
			if got, ok := body[name]; !ok || got != want {
				return fmt.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
			}
		}
		return nil
	})
	if _, ok := body["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
	// The static map was applied at start, not before the test ran moxi.
	if age, ok := body["moxi_map_age_seconds"+labels]; !ok || age < 0 || age > time.Since(started).Seconds() {
		t.Errorf("moxi_map_age_seconds%s = %v (present %v), want between 0 and %v", labels, age, ok, time.Since(started))
	}
	// No REST source, no stream metrics.
	if _, ok := body["moxi_rest_stream_up"]; ok {
		t.Error("moxi_rest_stream_up exported by a proxy with a static config")
	}
	checkDataMetrics(t, admin, rc, port, addrs(mcs))
	checkPromtool(t, scrapeRaw(t, "http://"+admin+"/metrics"))
}

// checkDataMetrics sends known single-key traffic and checks that the
// commands, latency and per-server metrics grew by exactly as much.
func checkDataMetrics(t *testing.T, admin string, rc *rawConn, port string, servers []string) {
	t.Helper()
	before := scrape(t, "http://"+admin+"/metrics")
	const hits, misses, sets = 5, 3, 2
	for range hits {
		rc.expect("get m3\r\n", "VALUE m3 0 1\r\nx\r\nEND\r\n")
	}
	for range misses {
		rc.expect("get absent\r\n", "END\r\n")
	}
	for range sets {
		rc.expect("set m3 0 0 1\r\nx\r\n", "STORED\r\n")
	}
	after := scrape(t, "http://"+admin+"/metrics")
	grew := func(name string) float64 { return after[name] - before[name] }
	cmd := func(c, st string) string {
		return `moxi_commands_total{bucket="default",command="` + c + `",port="` + port + `",status="` + st + `"}`
	}
	bl := `{bucket="default",port="` + port + `"}`
	for name, want := range map[string]float64{
		cmd("get", "hit"):                          hits,
		cmd("get", "miss"):                         misses,
		cmd("set", "ok"):                           sets,
		cmd("get", "error"):                        0,
		"moxi_request_duration_seconds_count" + bl: hits + misses + sets,
	} {
		if got := grew(name); got != want {
			t.Errorf("%s grew by %v, want %v", name, got, want)
		}
	}
	var exchanges, answered, errs float64
	for _, s := range servers {
		l := `{bucket="default",port="` + port + `",server="` + s + `"}`
		exchanges += grew("moxi_server_requests_total" + l)
		answered += grew("moxi_server_request_duration_seconds_count" + l)
		errs += grew("moxi_server_errors_total" + l)
		if _, ok := after["moxi_server_connections"+l]; !ok {
			t.Errorf("no moxi_server_connections%s", l)
		}
	}
	if exchanges != hits+misses+sets || answered != exchanges || errs != 0 {
		t.Errorf("servers: %v exchanges, %v answered, %v errors; want %d, all answered, none failed",
			exchanges, answered, errs, hits+misses+sets)
	}
}

// checkPromtool runs promtool check metrics on an exposition.
func checkPromtool(t *testing.T, raw string) {
	t.Helper()
	cmd := exec.Command(requireTool(t, "promtool"), "check", "metrics")
	cmd.Stdin = strings.NewReader(raw)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// waitHTTP polls url until it answers status.
func waitHTTP(t *testing.T, url string, status int) {
	t.Helper()
	eventually(t, 5*time.Second, func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != status {
			return fmt.Errorf("%s: %d", url, resp.StatusCode)
		}
		return nil
	})
}

func scrapeRaw(t *testing.T, url string) string {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// scrape returns the sample lines of a text exposition: "name{labels}"
// to value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(scrapeRaw(t, url)))
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", l, err)
		}
		out[l[:i]] = v
	}
	return out
}

// TestMetricsFrontCache: the front cache's answers count as hits in
// moxi_commands_total, its entries show in moxi_front_cache_bytes, and a
// cached answer still counts in the request latency histogram.
func TestMetricsFrontCache(t *testing.T) {
	t.Parallel()
	admin := "127.0.0.1:" + strconv.Itoa(freePort(t))
	mcs := startMemcacheds(t, 1)
	proxy := startProxy(t, addrs(mcs), "admin_listen="+admin+","+frontCacheZ(time.Minute))
	waitHTTP(t, "http://"+admin+"/health", http.StatusOK)
	port := strings.TrimPrefix(proxy.Addr[strings.LastIndexByte(proxy.Addr, ':'):], ":")
	bl := `{bucket="default",port="` + port + `"}`
	rc := dial(t, proxy.Addr)
	rc.expect("set yes1 0 0 5\r\nhello\r\n", "STORED\r\n")
	cacheAnswers(t, proxy.Addr, rc, "get yes1\r\n", "VALUE yes1 0 5\r\nhello\r\nEND\r\n")
	before := scrape(t, "http://"+admin+"/metrics")
	hitsBefore := proxyCounter(t, proxy.Addr, "tot_front_cache_hits")
	const gets = 10
	for range gets {
		rc.expect("get yes1\r\n", "VALUE yes1 0 5\r\nhello\r\nEND\r\n")
	}
	cached := proxyCounter(t, proxy.Addr, "tot_front_cache_hits") - hitsBefore
	after := scrape(t, "http://"+admin+"/metrics")
	hit := `moxi_commands_total{bucket="default",command="get",port="` + port + `",status="hit"}`
	if got := after[hit] - before[hit]; got != gets {
		t.Errorf("%s grew by %v, want %d", hit, got, gets)
	}
	if got := after["moxi_request_duration_seconds_count"+bl] - before["moxi_request_duration_seconds_count"+bl]; got != gets {
		t.Errorf("request latency count grew by %v, want %d", got, gets)
	}
	if cached == 0 {
		t.Error("no get was answered from the cache")
	}
	if got := after["moxi_front_cache_bytes"+bl]; got < float64(len("yes1hello")) {
		t.Errorf("moxi_front_cache_bytes = %v with an entry in", got)
	}
	if _, ok := after["moxi_front_cache_evictions_total"+bl]; !ok {
		t.Error("no moxi_front_cache_evictions_total")
	}
}
