package proxycore

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/binproto"
	"github.com/moxifleet/moxi/internal/memserver"
	"github.com/moxifleet/moxi/internal/proxytest"
	"github.com/moxifleet/moxi/mapstore"
)

// startDataNode runs a built-in server that owns the vbuckets accept
// takes, answering NOT_MY_VBUCKET for the rest, as a membase node does.
func startDataNode(t *testing.T, accept func(vb uint16) bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := memserver.New(memserver.Config{
		Version:       "test",
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		VBucketFilter: accept,
	})
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return ln.Addr().String()
}

// staleVBucketMap is an 8-vbucket map over addrs that names the first
// server master of every vbucket, as a map from before a rebalance would.
func staleVBucketMap(t *testing.T, addrs ...string) StaticMap {
	t.Helper()
	rows := strings.TrimSuffix(strings.Repeat("[0],", 8), ",")
	js := fmt.Sprintf(`{"hashAlgorithm":"CRC","numReplicas":0,"serverList":["%s"],"vBucketMap":[%s]}`,
		strings.Join(addrs, `","`), rows)
	m, err := mapstore.ParseBucket([]byte(js))
	if err != nil {
		t.Fatalf("map: %v", err)
	}
	return StaticMap{M: m}
}

func startVBucketProxy(t *testing.T, addrs ...string) *testProxy {
	t.Helper()
	beh := DefaultBehavior()
	beh.DownstreamProtocol = "binary"
	return startProxyConfig(t, Config{}, Bucket{Name: "default", Behavior: beh, Maps: staleVBucketMap(t, addrs...)})
}

// TestB2BQuietGroupNotMyVBucket sends a binary client's usual quiet
// batches (SETQ... NOOP, GETKQ... NOOP, every packet with the same
// opaque) through a map that sends every key to a node owning only even
// vbuckets. The proxy must resend the refused packets to the node that
// owns them, so the client sees only its NOOP after the sets and every
// value, with its own opaque, after the gets.
func TestB2BQuietGroupNotMyVBucket(t *testing.T) {
	even := startDataNode(t, func(vb uint16) bool { return vb%2 == 0 })
	odd := startDataNode(t, func(vb uint16) bool { return vb%2 == 1 })
	p := startVBucketProxy(t, even, odd)
	c := dialBin(t, p.addr)

	const n = 40
	var sets, gets [][]byte
	for i := range n {
		k, v := fmt.Sprintf("key-%d", i), fmt.Sprintf("value-%d", i)
		sets = append(sets, binReq(binproto.OpSetQ, k, v, setExtras(uint32(i), 0), 7))
		gets = append(gets, binReq(binproto.OpGetKQ, k, "", nil, 9))
	}
	c.send(append(sets, binReq(binproto.OpNoop, "", "", nil, 1))...)
	expectStatus(t, c.recv(), binproto.OpNoop, binproto.StatusOK, 1)

	c.send(append(gets, binReq(binproto.OpNoop, "", "", nil, 2))...)
	seen := map[string]bool{}
	for range n {
		r := c.recv()
		expectStatus(t, r, binproto.OpGetKQ, binproto.StatusOK, 9)
		var i int
		if _, err := fmt.Sscanf(string(r.Key), "key-%d", &i); err != nil || string(r.Value) != fmt.Sprintf("value-%d", i) {
			t.Fatalf("got key %q value %q", r.Key, r.Value)
		}
		seen[string(r.Key)] = true
	}
	expectStatus(t, c.recv(), binproto.OpNoop, binproto.StatusOK, 2)
	if len(seen) != n {
		t.Fatalf("got %d distinct keys, want %d", len(seen), n)
	}
	if got := onlyBucket(p).stats.get(totRetryVBucket); got == 0 {
		t.Fatal("tot_retry_vbucket = 0, want the retries counted")
	}
}

// TestB2BQuietGroupNotMyVBucketGivesUp checks the end of the retries: a
// vbucket no server owns gets the NOT_MY_VBUCKET status, once per packet
// and with the client's opaque, after 2 x servers attempts; the owned
// keys of the same batch are unaffected.
func TestB2BQuietGroupNotMyVBucketGivesUp(t *testing.T) {
	even := startDataNode(t, func(vb uint16) bool { return vb%2 == 0 })
	none := startDataNode(t, func(uint16) bool { return false })
	p := startVBucketProxy(t, even, none)
	m := staleVBucketMap(t, even, none).M
	c := dialBin(t, p.addr)

	var pkts [][]byte
	refused := 0
	for i := range 20 {
		k := fmt.Sprintf("key-%d", i)
		if m.VBucketOf([]byte(k))%2 == 1 {
			refused++
		}
		pkts = append(pkts, binReq(binproto.OpSetQ, k, "v", setExtras(0, 0), uint32(100+i)))
	}
	if refused == 0 || refused == 20 {
		t.Fatalf("test keys should mix owned and unowned vbuckets; %d of 20 unowned", refused)
	}
	c.send(append(pkts, binReq(binproto.OpNoop, "", "", nil, 1))...)
	for range refused {
		r := c.recv()
		if r.Opcode != binproto.OpSetQ || r.Status() != binproto.StatusNotMyVBucket || r.Opaque < 100 || r.Opaque >= 120 {
			t.Fatalf("got op 0x%02x status 0x%04x opaque %d; want SETQ NOT_MY_VBUCKET with a client opaque", r.Opcode, uint16(r.Status()), r.Opaque)
		}
		if k := fmt.Sprintf("key-%d", r.Opaque-100); m.VBucketOf([]byte(k))%2 != 1 {
			t.Fatalf("opaque %d (%s) refused, but its vbucket is owned", r.Opaque, k)
		}
	}
	expectStatus(t, c.recv(), binproto.OpNoop, binproto.StatusOK, 1)
}

// TestRESTVBucketGetErrors checks moxi's MB-2972 replies: in a vBucket
// bucket a REST server configures, a get whose server fails ends with the
// failure (a single-key get's timeout names no host); a static bucket
// over the same map masks the failure as a miss.
func TestRESTVBucketGetErrors(t *testing.T) {
	ms, addrs := memcacheds(t, 1)
	dead := proxytest.FreePort(t)
	start := func(rest bool, addr string) *client {
		beh := DefaultBehavior()
		beh.DownstreamTimeout = 200 * time.Millisecond
		p := startProxyConfig(t, Config{}, Bucket{Name: "default", Behavior: beh, Maps: staleVBucketMap(t, addr), REST: rest})
		return dial(t, p.addr)
	}
	restUp, staticUp := start(true, addrs[0]), start(false, addrs[0])
	restDead := start(true, fmt.Sprintf("127.0.0.1:%d", dead))
	staticDead := start(false, fmt.Sprintf("127.0.0.1:%d", dead))

	restDead.send("get k\r\n")
	restDead.expect("SERVER_ERROR proxy write to downstream 127.0.0.1\r\n")
	staticDead.send("get k\r\n")
	staticDead.expect("END\r\n")

	for _, c := range []*client{restUp, staticUp} { // connections up first
		c.send("get k\r\n")
		c.expect("END\r\n")
	}
	ms[0].Pause(t)
	defer ms[0].Resume()
	restUp.send("get k\r\n")
	restUp.expect("SERVER_ERROR proxy downstream timeout\r\n")
	restUp.send("get k k2\r\n")
	restUp.expect("SERVER_ERROR proxy downstream timeout 127.0.0.1\r\n")
	staticUp.send("get k\r\n")
	staticUp.expect("END\r\n")
}

// TestTextNotMyVBucket: text clients through a map that sends every key
// to a node owning only even vbuckets. Single-key commands are retried
// on the owner, and a multi-get re-fetches only its refused keys, so the
// client sees memcached's replies as if the map were right.
func TestTextNotMyVBucket(t *testing.T) {
	even := startDataNode(t, func(vb uint16) bool { return vb%2 == 0 })
	odd := startDataNode(t, func(vb uint16) bool { return vb%2 == 1 })
	p := startVBucketProxy(t, even, odd)
	c := dial(t, p.addr)
	var get, want strings.Builder
	get.WriteString("get")
	for i := range 20 {
		k := fmt.Sprintf("key-%d", i)
		c.send(fmt.Sprintf("set %s 0 0 %d\r\n%s\r\n", k, len(k), k))
		c.expect("STORED\r\n")
		fmt.Fprintf(&get, " %s", k)
		fmt.Fprintf(&want, "VALUE %s 0 %d\r\n%s\r\n", k, len(k), k)
	}
	c.send(get.String() + "\r\n")
	c.expect(want.String() + "END\r\n")
	if onlyBucket(p).stats.get(totRetryVBucket) == 0 {
		t.Fatal("tot_retry_vbucket = 0: the map never sent a key to the wrong node")
	}
}

// swapMap is a MapSource a test replaces while the proxy serves.
type swapMap struct{ m atomic.Pointer[mapstore.Map] }

func (s *swapMap) Current() *mapstore.Map { return s.m.Load() }

// TestNotMyVBucketWaitsForNewMap: every server of the map refuses the
// key's vbucket, and only a map that arrives after the retry count is
// spent (300 ms later; in a fleet, a map raft has not committed yet)
// names the server that owns it. The set must wait for it and succeed,
// not end with SERVER_ERROR a2b not_my_vbucket.
func TestNotMyVBucketWaitsForNewMap(t *testing.T) {
	none1 := startDataNode(t, func(uint16) bool { return false })
	none2 := startDataNode(t, func(uint16) bool { return false })
	owner := startDataNode(t, func(uint16) bool { return true })
	var maps swapMap
	maps.m.Store(staleVBucketMap(t, none1, none2).M)
	beh := DefaultBehavior()
	beh.DownstreamProtocol = "binary"
	p := startProxyConfig(t, Config{}, Bucket{Name: "default", Behavior: beh, Maps: &maps})
	later := staleVBucketMap(t, owner, none1).M
	time.AfterFunc(300*time.Millisecond, func() { maps.m.Store(later) })
	c := dial(t, p.addr)
	start := time.Now()
	c.send("set k 0 0 1\r\nv\r\n")
	c.expect("STORED\r\n")
	if took := time.Since(start); took < 250*time.Millisecond {
		t.Fatalf("stored after %v, before the new map existed", took)
	}
	c.send("get k\r\n")
	c.expect("VALUE k 0 1\r\nv\r\nEND\r\n")
}
