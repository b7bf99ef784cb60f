package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestTimeStats: with -Z time_stats=1, stats proxy timings has a
// "reserved" histogram whose rows count every request and a "connect" one
// with the server connection; without it, both are empty.
func TestTimeStats(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t)
	for _, on := range []bool{true, false} {
		z := "time_stats=0"
		if on {
			z = "time_stats=1"
		}
		proxy := startProxy(t, []string{mc.Addr}, z)
		rc := dial(t, proxy.Addr)
		const n = 25
		for i := range n {
			rc.expect(fmt.Sprintf("set ts%d 0 0 1\r\nx\r\n", i), "STORED\r\n")
		}
		counts := map[string]uint64{}
		for k, v := range statsRows(t, proxy.Addr, "stats proxy timings") {
			counts[k[strings.LastIndexByte(k, ':')+1:]] += v
		}
		if on && (counts["reserved"] != n || counts["connect"] != 1) {
			t.Errorf("time_stats=1: rows count %v, want reserved %d and connect 1", counts, n)
		}
		if !on && len(counts) != 0 {
			t.Errorf("time_stats=0: rows %v, want none", counts)
		}
	}
}

// statsRows reads "START+WIDTH=COUNT ..." rows of a histogram stats
// command and sums COUNT by STAT name.
func statsRows(t *testing.T, addr, cmd string) map[string]uint64 {
	t.Helper()
	rc := dial(t, addr)
	reply := rc.call(cmd + "\r\n")
	out := map[string]uint64{}
	for _, l := range strings.Split(strings.TrimSuffix(reply, "END\r\n"), "\r\n") {
		f := strings.Fields(l)
		if len(f) < 3 || f[0] != "STAT" {
			continue
		}
		eq := strings.IndexByte(f[2], '=')
		n, err := strconv.ParseUint(f[2][eq+1:], 10, 64)
		if eq < 0 || err != nil {
			t.Fatalf("row %q: %v", l, err)
		}
		out[f[1]] += n
	}
	return out
}
