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
	checkPromtool(t, scrapeRaw(t, "http://"+admin+"/metrics"))
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
