package e2e

import (
	"fmt"
	"testing"
	"time"
)

// TestFleetFrontCacheDrops: a key cached by one node is dropped there
// when a client changes it through another node of the fleet: the next
// get through the first node returns the new value, long before the
// cache's lifespan (an hour here) would have let it.
func TestFleetFrontCacheDrops(t *testing.T) {
	m := startMock(t, fleetMockArgs()...)
	f := startFleet(t, 3, fleetOptions{Source: fleetSource(m),
		Extra: "front_cache_max=1000,front_cache_spec=yes,front_cache_lifespan=3600000"})
	n1, n2 := f.Nodes[0], f.Nodes[1]
	c1, c2 := dial(t, n1.Addr), dial(t, n2.Addr)
	c1.expect("set yesf 0 0 1\r\nA\r\n", "STORED\r\n")
	cacheAnswers(t, n1.Addr, c1, "get yesf\r\n", "VALUE yesf 0 1\r\nA\r\nEND\r\n")
	c2.expect("set yesf 0 0 1\r\nB\r\n", "STORED\r\n")
	changed := time.Now()
	eventually(t, 5*time.Second, func() error {
		if got := c1.call("get yesf\r\n"); got != "VALUE yesf 0 1\r\nB\r\nEND\r\n" {
			return fmt.Errorf("node 1 still says %q", got)
		}
		return nil
	})
	took := time.Since(changed)
	t.Logf("node 1 served the value set through node 2 after %v", took.Round(time.Millisecond))
	if took > time.Second {
		t.Errorf("node 1 kept the old value %v after the change through node 2", took)
	}
}
