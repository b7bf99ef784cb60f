package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// pageStatus is the part of GET /status the status page tests read (see
// node.Status and node.Live); figures are pointers, null being none.
type pageStatus struct {
	Node   string         `json:"node"`
	Mode   string         `json:"mode"`
	Leader string         `json:"leader"`
	Maps   []fleetMapInfo `json:"maps"`
	Live   *struct {
		Seq     uint64              `json:"seq"`
		Node    map[string]*float64 `json:"node"`
		Servers []struct {
			Port     int      `json:"port"`
			Bucket   string   `json:"bucket"`
			Addr     string   `json:"addr"`
			Requests uint64   `json:"requests"`
			ReqRate  *float64 `json:"req_rate"`
		} `json:"servers"`
		Buckets []struct {
			Port       int    `json:"port"`
			Bucket     string `json:"bucket"`
			FrontCache *struct {
				Hits    uint64   `json:"hits"`
				Misses  uint64   `json:"misses"`
				HitRate *float64 `json:"hit_rate"`
			} `json:"front_cache"`
		} `json:"buckets"`
	} `json:"live"`
}

// pageHistory is GET /status/history.
type pageHistory struct {
	Seq    uint64                `json:"seq"`
	Times  []int64               `json:"times"`
	Series map[string][]*float64 `json:"series"`
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(scrapeRaw(t, url)), v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func pageStatusOf(t *testing.T, base string) pageStatus {
	t.Helper()
	var st pageStatus
	getJSON(t, base+"/status", &st)
	return st
}

// TestStatusPageStandalone: under load, the page chromium renders shows
// the figures /status and /status/history have: the sample it shows is
// one /status gave between the renders' start and end, and each of its
// rates and latencies is that sample's; the totals lie between those
// /status gave before and after; the map, servers and front cache are
// the proxy's.
func TestStatusPageStandalone(t *testing.T) {
	t.Parallel()
	requireTool(t, "chromium")
	mcs := startMemcacheds(t, 2)
	admin := addrOf(freePort(t))
	proxy := startProxy(t, addrs(mcs),
		"admin_listen="+admin+",front_cache_max=1000,front_cache_lifespan=60000,front_cache_spec=k")
	base := "http://" + admin
	waitHTTP(t, base+"/health", http.StatusOK)
	ctx, stopLoad := context.WithCancel(context.Background())
	t.Cleanup(stopLoad)
	loadErr := make(chan error, 1)
	go func() { loadErr <- textLoad(ctx, proxy.Addr, 20) }()

	eventually(t, 20*time.Second, func() error { return pageReady(pageStatusOf(t, base), 2) })
	before := pageStatusOf(t, base)
	dom := renderedDOM(t, base+"/")
	after := pageStatusOf(t, base)
	var hist pageHistory
	getJSON(t, base+"/status/history", &hist)

	seq := checkShownSample(t, dom, before, after, hist)
	checkPageServers(t, dom, before, after, addrs(mcs))
	checkPageMapAndCache(t, dom, before, after)
	t.Logf("the page showed sample %d (of %d..%d)", seq, before.Live.Seq, after.Live.Seq)
	screenshot(t, base+"/", "statuspage-standalone.png")
	stopLoad()
	if err := <-loadErr; err != nil {
		t.Errorf("load: %v", err)
	}
}

// pageReady says whether st has figures for servers servers and a front
// cache that answered, and a few samples of history.
func pageReady(st pageStatus, servers int) error {
	switch {
	case st.Live == nil:
		return fmt.Errorf("no live figures")
	case st.Live.Seq < 3:
		return fmt.Errorf("%d samples", st.Live.Seq)
	case len(st.Live.Servers) != servers:
		return fmt.Errorf("%d servers", len(st.Live.Servers))
	case len(st.Live.Buckets) != 1 || st.Live.Buckets[0].FrontCache == nil || st.Live.Buckets[0].FrontCache.Hits == 0:
		return fmt.Errorf("no front cache hit yet")
	}
	return nil
}

// textLoad drives addr until ctx ends: gets of keys k0..k<keys-1> (which
// the front cache keeps), each set first, and sets of other keys, about
// 500 of each a second. It returns the first wrong reply or error.
func textLoad(ctx context.Context, addr string, keys int) error {
	c, err := dialTimeout(addr)
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	call := func(req, want string) error {
		_ = c.SetDeadline(time.Now().Add(ioTimeout))
		if _, err := c.Write([]byte(req)); err != nil {
			return fmt.Errorf("write %q: %w", req, err)
		}
		got, err := readReply(r)
		if err == nil && got != want {
			err = fmt.Errorf("got %q, want %q", got, want)
		}
		if err != nil {
			return fmt.Errorf("%q: %w", req, err)
		}
		return nil
	}
	for k := range keys {
		if err := call(fmt.Sprintf("set k%d 0 0 2\r\nvv\r\n", k), "STORED\r\n"); err != nil {
			return err
		}
	}
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		k := i % keys
		if err := call(fmt.Sprintf("get k%d\r\n", k), fmt.Sprintf("VALUE k%d 0 2\r\nvv\r\nEND\r\n", k)); err != nil {
			return err
		}
		if err := call(fmt.Sprintf("set s%d 0 0 2\r\nvv\r\n", i%1000), "STORED\r\n"); err != nil {
			return err
		}
	}
}

// pageServerAddrs is every server the page's server table names.
func pageServerAddrs(dom string) []string {
	var out []string
	for _, e := range domElems(dom, "data-server") {
		if e.attrs["data-metric"] == "req_rate" {
			out = append(out, e.attrs["data-server"])
		}
	}
	slices.Sort(out)
	return out
}

// checkPageServers: the page's servers are the proxy's, each with a
// request total between those of /status before and after the render.
func checkPageServers(t *testing.T, dom string, before, after pageStatus, want []string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	if got := pageServerAddrs(dom); !slices.Equal(got, want) {
		t.Errorf("the page shows servers %v, want %v", got, want)
	}
	var statusAddrs []string
	for _, s := range after.Live.Servers {
		statusAddrs = append(statusAddrs, s.Addr)
	}
	if slices.Sort(statusAddrs); !slices.Equal(statusAddrs, want) {
		t.Errorf("/status shows servers %v, want %v", statusAddrs, want)
	}
	for i, s := range after.Live.Servers {
		lo := before.Live.Servers[i].Requests
		got := domValue(t, dom, map[string]string{"data-metric": "requests", "data-server": s.Addr})
		if got < float64(lo) || got > float64(s.Requests) || got == 0 {
			t.Errorf("server %s: the page shows %v requests, /status said %d before and %d after", s.Addr, got, lo, s.Requests)
		}
	}
}

// checkPageMapAndCache: the map version and server count are /status's;
// the front cache's overall hit ratio is above 0 and is its hits over
// its lookups, with hits between /status's before and after.
func checkPageMapAndCache(t *testing.T, dom string, before, after pageStatus) {
	t.Helper()
	m := after.Maps[0]
	at := map[string]string{"data-port": fmt.Sprint(m.Port), "data-bucket": m.Bucket}
	if v := domValue(t, dom, with(at, "data-metric", "map_version")); v != float64(m.Version) {
		t.Errorf("the page shows map version %v, /status %d", v, m.Version)
	}
	if v := domValue(t, dom, with(at, "data-metric", "map_servers")); v != float64(m.Servers) {
		t.Errorf("the page shows %v servers in the map, /status %d", v, m.Servers)
	}
	hits := domValue(t, dom, with(at, "data-metric", "hits"))
	misses := domValue(t, dom, with(at, "data-metric", "misses"))
	ratio := domValue(t, dom, with(at, "data-metric", "hit_ratio"))
	lo, hi := before.Live.Buckets[0].FrontCache.Hits, after.Live.Buckets[0].FrontCache.Hits
	if hits < float64(lo) || hits > float64(hi) {
		t.Errorf("the page shows %v front cache hits, /status said %d before and %d after", hits, lo, hi)
	}
	if want := hits / (hits + misses); ratio <= 0 || ratio-want > 0.0005 || want-ratio > 0.0005 {
		t.Errorf("the page shows a hit ratio of %v with %v hits and %v misses (%v)", ratio, hits, misses, want)
	}
}

// with is attrs plus k=v.
func with(attrs map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range attrs {
		out[a] = b
	}
	return out
}

// pageMembers is the fleet table's rows: member name to its attributes.
func pageMembers(dom string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, e := range domElems(dom, "data-member") {
		if e.attrs["data-reachable"] != "" {
			out[e.attrs["data-member"]] = e.attrs
		}
	}
	return out
}

func joinKeys(m map[string]map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, " ")
}
