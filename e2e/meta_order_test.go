package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// TestMetaAndClassicInOrder: with a binary downstream, meta commands go
// to the server over a text connection and classic ones over binary. A
// client pipelining both on one key must still see each command run
// after the ones it sent before, as on one memcached connection: every
// mg sees the set just before it and every get the ms before it.
func TestMetaAndClassicInOrder(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 4} {
		t.Run(fmt.Sprintf("%d servers", n), func(t *testing.T) {
			t.Parallel()
			proxy := startBinaryProxy(t, addrs(startMemcacheds(t, n)), "")
			rc := dial(t, proxy.Addr)
			const rounds = 300
			var req strings.Builder
			for i := range rounds {
				key := fmt.Sprintf("ord%d", i%7)
				v, w := fmt.Sprintf("v%d", i), fmt.Sprintf("w%d", i)
				fmt.Fprintf(&req, "set %s 0 0 %d\r\n%s\r\nmg %s v\r\nms %s %d\r\n%s\r\nget %s\r\n",
					key, len(v), v, key, key, len(w), w, key)
			}
			rc.send(req.String())
			for i := range rounds {
				key := fmt.Sprintf("ord%d", i%7)
				v, w := fmt.Sprintf("v%d", i), fmt.Sprintf("w%d", i)
				want := []string{"STORED\r\n", fmt.Sprintf("VA %d\r\n%s\r\n", len(v), v), "HD\r\n",
					fmt.Sprintf("VALUE %s 0 %d\r\n%s\r\nEND\r\n", key, len(w), w)}
				for j, wv := range want {
					if got := rc.reply(); got != wv {
						t.Fatalf("round %d reply %d: got %q, want %q", i, j, got, wv)
					}
				}
			}
		})
	}
}
