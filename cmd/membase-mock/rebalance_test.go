package main

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/binproto"
)

// vbClient is a minimal vbucket-aware client: it sends each key to the
// master its map names and, on NOT_MY_VBUCKET, fetches the map again and
// retries, as a smart client (or moxi) does.
type vbClient struct {
	t     *testing.T
	m     *mock
	cfg   *testBucket
	conns map[string]*binClient
	nmvb  int // NOT_MY_VBUCKET replies seen
}

func newVBClient(t *testing.T, m *mock) *vbClient {
	return &vbClient{t: t, m: m, cfg: fetchBucket(t, m, "default"), conns: map[string]*binClient{}}
}

func (c *vbClient) conn(addr string) *binClient {
	if c.conns[addr] == nil {
		c.conns[addr] = dialBin(c.t, addr)
	}
	return c.conns[addr]
}

// do runs op on key's master, following NOT_MY_VBUCKET until a deadline.
func (c *vbClient) do(op binproto.Opcode, extras []byte, key, value string) binproto.Packet {
	c.t.Helper()
	vb := uint16(vbucketOf([]byte(key), len(c.cfg.VBucketServerMap.VBucketMap)))
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p := c.conn(c.cfg.masterOf(key)).do(op, vb, 1, extras, key, value)
		if p.Status() != binproto.StatusNotMyVBucket {
			return p
		}
		c.nmvb++
		c.cfg = fetchBucket(c.t, c.m, "default")
	}
	c.t.Fatalf("key %q: NOT_MY_VBUCKET for 10s", key)
	return binproto.Packet{}
}

// checkPlaced checks every key is served by the master cfg names, with
// its value, and refused by another node.
func checkPlaced(t *testing.T, cfg *testBucket, values map[string]string) {
	t.Helper()
	conns := map[string]*binClient{}
	conn := func(addr string) *binClient {
		if conns[addr] == nil {
			conns[addr] = dialBin(t, addr)
		}
		return conns[addr]
	}
	nvb := len(cfg.VBucketServerMap.VBucketMap)
	for key, want := range values {
		vb := uint16(vbucketOf([]byte(key), nvb))
		owner := cfg.masterOf(key)
		if p := conn(owner).do(binproto.OpGet, vb, 1, nil, key, ""); p.Status() != binproto.StatusOK || string(p.Value) != want {
			t.Fatalf("key %q (vb %d) on its master %s: status %#x value %q, want %q",
				key, vb, owner, uint16(p.Status()), p.Value, want)
		}
		other := otherThan(cfg.VBucketServerMap.ServerList, owner)
		if p := conn(other).do(binproto.OpGet, vb, 1, nil, key, ""); p.Status() != binproto.StatusNotMyVBucket {
			t.Fatalf("key %q on non-owner %s: status %#x", key, other, uint16(p.Status()))
		}
	}
}

// TestRebalanceTwoToFour grows the cluster while a client streams the
// config: the forward map comes first, then the current map catches up
// batch by batch, then the final map without forward map; every item set
// before is then on the master the final map names.
func TestRebalanceTwoToFour(t *testing.T) {
	m := startMock(t, "-nodes", "2", "-vbuckets", "64", "-rebalance-step", "10ms", "-rebalance-batch", "4")
	next, body := followStream(t, m)
	first := next()
	c := newVBClient(t, m)
	values := map[string]string{}
	for i := range 300 {
		key, val := fmt.Sprintf("key-%d", i), fmt.Sprintf("value-%d", i)
		if p := c.do(binproto.OpSet, setExtras(), key, val); p.Status() != binproto.StatusOK {
			t.Fatalf("set %s: %#x", key, uint16(p.Status()))
		}
		values[key] = val
	}
	if st := mockStats(t, m); st.StreamsOpen != 1 {
		t.Fatalf("streams_open %d with one stream, want 1", st.StreamsOpen)
	}

	admin(t, m, "/mock/rebalance?nodes=4", http.StatusAccepted)
	fwd := next()
	fm := fwd.VBucketServerMap
	if len(fm.ServerList) != 4 || len(fm.VBucketMapForward) != 64 || !slices.Equal(fm.ServerList[:2], first.VBucketServerMap.ServerList) {
		t.Fatalf("first config of the rebalance: servers %v, forward map of %d rows", fm.ServerList, len(fm.VBucketMapForward))
	}
	steps, last := 0, fwd
	for last.VBucketServerMap.VBucketMapForward != nil {
		last, steps = next(), steps+1
	}
	if steps < 2 {
		t.Errorf("saw %d configs after the forward map, want the moves published batch by batch", steps)
	}
	lm := last.VBucketServerMap
	if len(lm.ServerList) != 4 || !slices.EqualFunc(lm.VBucketMap, fm.VBucketMapForward, slices.Equal) {
		t.Fatalf("final map differs from the announced forward map (servers %v)", lm.ServerList)
	}
	checkPlaced(t, last, values)

	if st := mockStats(t, m); st.StreamsOpen != 1 || st.RebalanceRunning || st.Rebalances != 1 {
		t.Fatalf("stats after the rebalance: %+v", st)
	}
	_ = body.Close()
	eventually(t, "streams_open 0 once the client left", func() bool { return mockStats(t, m).StreamsOpen == 0 })
}

// TestRebalanceUnderLoad writes while vbuckets move, following
// NOT_MY_VBUCKET like a smart client: no acknowledged write is lost.
func TestRebalanceUnderLoad(t *testing.T) {
	m := startMock(t, "-nodes", "2", "-vbuckets", "64", "-rebalance-step", "5ms", "-rebalance-batch", "2")
	c := newVBClient(t, m)
	admin(t, m, "/mock/rebalance?add=2", http.StatusAccepted)
	values := map[string]string{}
	for i := 0; i < 200 || mockStats(t, m).RebalanceRunning; i++ {
		for j := range 20 {
			key, val := fmt.Sprintf("k%d-%d", i, j), fmt.Sprintf("v%d", i)
			if p := c.do(binproto.OpSet, setExtras(), key, val); p.Status() != binproto.StatusOK {
				t.Fatalf("set %s: %#x", key, uint16(p.Status()))
			}
			values[key] = val
		}
	}
	if c.nmvb == 0 {
		t.Fatal("the load never met a moved vbucket")
	}
	checkPlaced(t, fetchBucket(t, m, "default"), values)
}

// TestRebalanceRemovesNodes shrinks the cluster by id and refuses a
// second rebalance while one runs.
func TestRebalanceRemovesNodes(t *testing.T) {
	m := startMock(t, "-nodes", "3", "-vbuckets", "16", "-rebalance-step", "100ms", "-rebalance-batch", "2")
	before := fetchBucket(t, m, "default")
	c := newVBClient(t, m)
	c.do(binproto.OpSet, setExtras(), "kept", "yes")
	admin(t, m, "/mock/rebalance?remove=0", http.StatusAccepted)
	admin(t, m, "/mock/rebalance?nodes=5", http.StatusConflict)
	admin(t, m, "/mock/failover?node=1", http.StatusConflict)
	eventually(t, "rebalance end", func() bool { return !mockStats(t, m).RebalanceRunning })
	after := fetchBucket(t, m, "default")
	if want := before.VBucketServerMap.ServerList[1:]; !slices.Equal(after.VBucketServerMap.ServerList, want) {
		t.Fatalf("servers after removing node 0: %v, want %v", after.VBucketServerMap.ServerList, want)
	}
	checkPlaced(t, after, map[string]string{"kept": "yes"})
	admin(t, m, "/mock/rebalance?remove=0", http.StatusBadRequest) // no longer in the cluster
}

// TestPublishLag: with -publish-lag a moved vbucket is served by its new
// master while the published map still names the old one, who refuses
// it, so a client that trusts the stream meets NOT_MY_VBUCKET; the map
// naming the new master arrives after the lag.
func TestPublishLag(t *testing.T) {
	const lag = time.Second
	m := startMock(t, "-nodes", "2", "-vbuckets", "16", "-rebalance-step", "1ms",
		"-rebalance-batch", "16", "-publish-lag", lag.String())
	next, _ := followStream(t, m)
	next()
	admin(t, m, "/mock/rebalance?nodes=4", http.StatusAccepted)
	fm := next().VBucketServerMap // current map plus the forward map
	vb := -1
	for i, row := range fm.VBucketMap {
		if row[0] != fm.VBucketMapForward[i][0] {
			vb = i
			break
		}
	}
	if vb < 0 {
		t.Fatal("the rebalance moves no vbucket")
	}
	oldMaster := dialBin(t, fm.ServerList[fm.VBucketMap[vb][0]])
	newMaster := dialBin(t, fm.ServerList[fm.VBucketMapForward[vb][0]])
	eventually(t, "the new master serves the moved vbucket", func() bool {
		p := newMaster.do(binproto.OpGetK, uint16(vb), 1, nil, "k", "")
		return p.Status() != binproto.StatusNotMyVBucket
	})
	served := time.Now()
	p := oldMaster.do(binproto.OpGetK, uint16(vb), 2, nil, "k", "")
	if st := p.Status(); st != binproto.StatusNotMyVBucket {
		t.Fatalf("old master answered %#x for the moved vbucket, want NOT_MY_VBUCKET", uint16(st))
	}
	after := next().VBucketServerMap
	if waited := time.Since(served); waited < lag/2 {
		t.Fatalf("the map naming the new master came %v after the move, want about %v", waited, lag)
	}
	if after.VBucketMap[vb][0] != fm.VBucketMapForward[vb][0] {
		t.Fatalf("next map names server %d for vbucket %d, want %d", after.VBucketMap[vb][0], vb, fm.VBucketMapForward[vb][0])
	}
}
