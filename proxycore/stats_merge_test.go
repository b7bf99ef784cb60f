package proxycore

import (
	"fmt"
	"strings"
	"testing"
)

func TestMergeStat(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{"pid", "10", "20", "10"},                          // first wins
		{"version", "1.6.18", "1.6.9", "1.6.18"},           // first wins
		{"uptime", "5", "9", "9"},                          // max
		{"time", "1700000009", "1700000001", "1700000009"}, // max
		{"limit_maxbytes", "64", "128", "128"},             // max (moxi's "smallest" list keeps the largest)
		{"items:1:age", "3", "7", "7"},                     // ":age" suffix
		{"curr_items", "3", "4", "7"},                      // sum
		{"rusage_user", "0.5", "1.25", "1.750000"},         // float sum
		{"libevent", "2.1", "2.2", "2.1"},                  // first wins
		{"weird", "abc", "3", "abc"},                       // non-numeric keeps first
	}
	for _, tc := range tests {
		if got := mergeStat(tc.name, tc.a, tc.b); got != tc.want {
			t.Errorf("mergeStat(%s, %s, %s) = %s, want %s", tc.name, tc.a, tc.b, got, tc.want)
		}
	}
}

func TestStatsMergerKeepsOrderAndPassesOtherLines(t *testing.T) {
	var m statsMerger
	m.addReply([]byte("STAT b 1\r\nSTAT a 2\r\nEND\r\n"))
	m.addReply([]byte("STAT a 3\r\nSTAT c x y\r\nSTAT b 4\r\nEND\r\n"))
	got := string(m.appendTo(nil))
	want := "STAT b 5\r\nSTAT a 5\r\nSTAT c x y\r\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestStatsBroadcast checks "stats" reaches every server and merges.
func TestStatsBroadcast(t *testing.T) {
	addrs := servers(t, 3)
	p := startProxy(t, addrs, nil)
	c := dial(t, p.addr)
	for i := 0; i < 30; i++ {
		c.send(fmt.Sprintf("set s%d 0 0 1\r\nx\r\n", i))
		c.expect("STORED\r\n")
	}
	c.send("stats\r\n")
	stats := map[string]string{}
	for {
		l := c.line()
		if l == "END\r\n" {
			break
		}
		f := strings.Fields(l)
		if len(f) != 3 || f[0] != "STAT" {
			t.Fatalf("bad stats line %q", l)
		}
		stats[f[1]] = f[2]
	}
	if stats["curr_items"] != "30" {
		t.Fatalf("merged curr_items = %q, want 30", stats["curr_items"])
	}
	if stats["curr_connections"] == "" || stats["pid"] == "" {
		t.Fatalf("merged stats lack curr_connections or pid: %v", stats)
	}
	c.send("flush_all\r\nget s1\r\nstats nosuchgroup\r\n")
	c.expect("OK\r\nEND\r\nERROR\r\n")
}
