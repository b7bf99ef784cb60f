package e2e

import (
	"strings"
	"testing"
)

// TestKeyStats: with -Z key_stats_*, stats proxy keystats lists the
// tracked keys (spec prefix, not unspec), busiest first, with their gets,
// hits, misses and sets; at most key_stats_max keys, the least recently
// counted dropped first.
func TestKeyStats(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t)
	proxy := startProxy(t, []string{mc.Addr}, "key_stats_max=2,key_stats_lifespan=60000,key_stats_spec=hot,key_stats_unspec=hotno")
	rc := dial(t, proxy.Addr)
	rc.expect("set hot1 0 0 1\r\nx\r\n", "STORED\r\n")
	rc.expect("set hotno1 0 0 1\r\nx\r\n", "STORED\r\n")
	for range 3 {
		rc.expect("get hot1\r\n", "VALUE hot1 0 1\r\nx\r\nEND\r\n")
	}
	rc.expect("get hot2 cold hotno1 hot2\r\n", "VALUE hotno1 0 1\r\nx\r\nEND\r\n")
	st := statsOf(t, proxy.Addr, "stats proxy keystats")
	port := proxy.Addr[strings.LastIndexByte(proxy.Addr, ':')+1:]
	p := port + ":default:keystats:"
	for k, want := range map[string]string{
		p + "hot1:gets": "3", p + "hot1:hits": "3", p + "hot1:misses": "0", p + "hot1:sets": "1",
		p + "hot2:gets": "2", p + "hot2:hits": "0", p + "hot2:misses": "2", p + "hot2:sets": "0",
	} {
		if st[k] != want {
			t.Errorf("%s = %q, want %q", k, st[k], want)
		}
	}
	for k := range st {
		if strings.Contains(k, ":cold:") || strings.Contains(k, ":hotno1:") {
			t.Errorf("untracked key listed: %s", k)
		}
	}
	rc.expect("get hot3\r\n", "END\r\n") // a third key: hot1, counted longest ago, goes
	st = statsOf(t, proxy.Addr, "stats proxy keystats")
	if _, ok := st[p+"hot1:gets"]; ok {
		t.Errorf("hot1 still tracked past key_stats_max=2: %v", st)
	}
	if st[p+"hot3:gets"] != "1" || st[p+"hot2:gets"] != "2" {
		t.Errorf("hot2/hot3 after the eviction: %v", st)
	}
}
