package e2e

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// TestOptimizeSet: -Z optimize_set=PREFIX|... answers a matching text set
// STORED at once, even while its server is stalled, and the value still
// reaches the server; other sets, and noreply sets, go as usual; stats
// proxy counts the optimized ones.
func TestOptimizeSet(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t)
	proxy := startProxy(t, []string{mc.Addr}, "optimize_set=opt:|fast:,downstream_timeout=2000")
	rc := dial(t, proxy.Addr)

	mc.Signal(t, syscall.SIGSTOP)
	stopped := true
	defer func() {
		if stopped {
			mc.Signal(t, syscall.SIGCONT)
		}
	}()
	// With the server stalled, a reply that waited for it would come after
	// downstream_timeout (2 s); STORED must come well before.
	start := time.Now()
	rc.expect("set opt:a 3 0 5\r\nhello\r\n", "STORED\r\n")
	if d := time.Since(start); d > time.Second {
		t.Errorf("optimized set answered after %v with the server stalled: it waited for the server", d)
	}
	rc.expect("set plain 0 0 1\r\nx\r\n", "SERVER_ERROR proxy downstream timeout 127.0.0.1\r\n")
	mc.Signal(t, syscall.SIGCONT)
	stopped = false

	direct := dial(t, mc.Addr)
	eventually(t, 5*time.Second, func() error {
		if got := direct.call("get opt:a\r\n"); got != "VALUE opt:a 3 5\r\nhello\r\nEND\r\n" {
			return fmt.Errorf("server has %q", got)
		}
		return nil
	})
	rc.expect("set fast:b 0 0 1 noreply\r\ny\r\nget fast:b\r\n", "VALUE fast:b 0 1\r\ny\r\nEND\r\n")
	rc.expect("set other 0 0 1\r\nz\r\n", "STORED\r\n")
	if n := proxyCounter(t, proxy.Addr, "tot_optimize_sets"); n != 1 {
		t.Errorf("tot_optimize_sets = %d, want 1", n)
	}
}
