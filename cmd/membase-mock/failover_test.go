package main

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"testing"

	"github.com/moxifleet/moxi/internal/binproto"
)

// setKeys stores n keys through c and returns them.
func setKeys(t *testing.T, c *vbClient, n int) map[string]string {
	t.Helper()
	values := map[string]string{}
	for i := range n {
		key := fmt.Sprintf("key-%d", i)
		if p := c.do(binproto.OpSet, setExtras(), key, "v"+key); p.Status() != binproto.StatusOK {
			t.Fatalf("set %s: %#x", key, uint16(p.Status()))
		}
		values[key] = "v" + key
	}
	return values
}

// TestFailoverPromotesReplicas fails over a node of a cluster with one
// replica: the new map leaves the node out, every vbucket keeps a master,
// and no item is lost; the failed node refuses its old vbuckets.
func TestFailoverPromotesReplicas(t *testing.T) {
	m := startMock(t, "-nodes", "3", "-vbuckets", "32", "-replicas", "1")
	before := fetchBucket(t, m, "default")
	values := setKeys(t, newVBClient(t, m), 200)
	failed := before.VBucketServerMap.ServerList[1]

	admin(t, m, "/mock/failover?node=1", http.StatusOK)
	after := fetchBucket(t, m, "default")
	am := after.VBucketServerMap
	if len(am.ServerList) != 2 || slices.Contains(am.ServerList, failed) {
		t.Fatalf("servers after failing over %s: %v", failed, am.ServerList)
	}
	for vb, row := range am.VBucketMap {
		if row[0] < 0 || row[0] >= 2 || row[1] >= 2 {
			t.Fatalf("vb %d row %v after failover", vb, row)
		}
	}
	checkPlaced(t, after, values)
	for key := range values {
		if before.masterOf(key) == failed {
			vb := uint16(vbucketOf([]byte(key), 32))
			if p := dialBin(t, failed).do(binproto.OpGet, vb, 1, nil, key, ""); p.Status() != binproto.StatusNotMyVBucket {
				t.Fatalf("failed node still serves %q: %#x", key, uint16(p.Status()))
			}
			break
		}
	}
	if st := mockStats(t, m); st.Failovers != 1 {
		t.Fatalf("failovers %d", st.Failovers)
	}
}

// TestFailoverWithoutReplicas loses the failed node's items: by default
// its vbuckets get empty masters elsewhere; with orphan=1 they have none.
func TestFailoverWithoutReplicas(t *testing.T) {
	m := startMock(t, "-nodes", "3", "-vbuckets", "32")
	before := fetchBucket(t, m, "default")
	values := setKeys(t, newVBClient(t, m), 100)
	admin(t, m, "/mock/failover?node=0", http.StatusOK)
	after := fetchBucket(t, m, "default")
	lost := 0
	for key, val := range values {
		vb := uint16(vbucketOf([]byte(key), 32))
		p := dialBin(t, after.masterOf(key)).do(binproto.OpGet, vb, 1, nil, key, "")
		wasOnFailed := before.masterOf(key) == before.VBucketServerMap.ServerList[0]
		switch {
		case wasOnFailed && p.Status() == binproto.StatusKeyNotFound:
			lost++
		case wasOnFailed || p.Status() != binproto.StatusOK || string(p.Value) != val:
			t.Fatalf("key %q (on the failed node: %v): %#x %q", key, wasOnFailed, uint16(p.Status()), p.Value)
		}
	}
	if lost == 0 {
		t.Fatal("no key was on the failed node; the test proves nothing")
	}

	admin(t, m, "/mock/failover?node=1&orphan=1", http.StatusOK)
	orphaned := 0
	for _, row := range fetchBucket(t, m, "default").VBucketServerMap.VBucketMap {
		if row[0] == -1 {
			orphaned++
		}
	}
	if orphaned == 0 {
		t.Fatal("orphan=1 left every vbucket with a master")
	}
	admin(t, m, "/mock/failover?node=2", http.StatusBadRequest) // the last node
	admin(t, m, "/mock/failover?node=9", http.StatusNotFound)
}

// TestKillAndStartNode closes a node's port for real, shows it unhealthy
// in the config, and reopens it on the same port with its data.
func TestKillAndStartNode(t *testing.T) {
	m := startMock(t, "-nodes", "2", "-vbuckets", "8")
	c := newVBClient(t, m)
	c.do(binproto.OpSet, setExtras(), "survivor", "here")
	addr := c.cfg.masterOf("survivor")
	id := slices.Index(c.cfg.VBucketServerMap.ServerList, addr)
	held := dialBin(t, addr)

	admin(t, m, fmt.Sprintf("/mock/kill-node?node=%d", id), http.StatusOK)
	if conn, err := net.Dial("tcp", addr); err == nil {
		_ = conn.Close()
		t.Fatalf("dial %s after kill-node succeeded", addr)
	}
	if _, err := held.try(binproto.OpNoop, 0, 1, nil, "", ""); err == nil {
		t.Fatal("a connection open before kill-node still works")
	}
	if st := fetchBucket(t, m, "default").Nodes[id].Status; st != "unhealthy" {
		t.Fatalf("killed node status %q", st)
	}

	admin(t, m, fmt.Sprintf("/mock/start-node?node=%d", id), http.StatusOK)
	if st := fetchBucket(t, m, "default").Nodes[id].Status; st != "healthy" {
		t.Fatalf("restarted node status %q", st)
	}
	checkPlaced(t, fetchBucket(t, m, "default"), map[string]string{"survivor": "here"})
}
