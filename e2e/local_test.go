package e2e

import (
	"regexp"
	"strings"
	"testing"
)

// moxiVersion asks addr for its version and checks the reply's shape.
func moxiVersion(t *testing.T, addr string) string {
	t.Helper()
	got := dial(t, addr).call("version\r\n")
	m := regexp.MustCompile(`^VERSION (\S+)\r\n$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("version: got %q", got)
	}
	return m[1]
}

// checkLocalCommands covers the commands a moxi answers itself.
func checkLocalCommands(t *testing.T, addr string) {
	t.Helper()
	rc := dial(t, addr)
	rc.expect("verbosity 1\r\n", "OK\r\n")
	rc.send("verbosity 0 noreply\r\n")
	rc.expect("set v 0 0 1\r\nv\r\n", "STORED\r\n") // and nothing in between
	stats := statsOf(t, addr, "stats")
	for _, name := range []string{"pid", "uptime", "curr_items", "get_hits", "cmd_set"} {
		if _, ok := stats[name]; !ok {
			t.Errorf("stats has no %s: %v", name, stats)
		}
	}
	rc.send("get v\r\nquit\r\nget v\r\n")
	if got := rc.reply(); got != "VALUE v 0 1\r\nv\r\nEND\r\n" {
		t.Errorf("get before quit: %q", got)
	}
	rc.expectClosed()
}

func TestLocalCommandsProxy(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t)
	proxy := startProxy(t, []string{mc.Addr}, "")
	checkLocalCommands(t, proxy.Addr)
	moxiV, memcachedV := moxiVersion(t, proxy.Addr), moxiVersion(t, mc.Addr)
	if moxiV == memcachedV {
		t.Errorf("version through moxi is memcached's %q, want moxi's own", memcachedV)
	}
}

func TestLocalCommandsBuiltinServer(t *testing.T) {
	t.Parallel()
	checkLocalCommands(t, startServer(t).Addr)
}

// TestStatsProxy: moxi's own STAT lines, then END, including its version.
func TestStatsProxy(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t)
	proxy := startProxy(t, []string{mc.Addr}, "")
	stats := statsOf(t, proxy.Addr, "stats proxy")
	if len(stats) == 0 {
		t.Fatal("stats proxy: no STAT lines")
	}
	if v := moxiVersion(t, proxy.Addr); stats["basic:version"] != v {
		t.Errorf("stats proxy basic:version = %q, want %q", stats["basic:version"], v)
	}
	if _, ok := stats["pid"]; ok {
		t.Errorf("stats proxy looks like memcached's stats: %v", stats)
	}
}

// TestVersionFlagMatchesCommand: moxi -V prints the version the version
// command answers.
func TestVersionFlagMatchesCommand(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t)
	v := moxiVersion(t, startProxy(t, []string{mc.Addr}, "").Addr)
	res := runMoxi(t, startTimeout, "-V")
	if res.Code != 0 || !strings.Contains(res.Stdout+res.Stderr, v) {
		t.Errorf("moxi -V: exit %d, output %q; want exit 0 and %q", res.Code, res.Stdout+res.Stderr, v)
	}
}
