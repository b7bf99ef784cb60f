package proxycore

import (
	"net"
	"testing"

	"github.com/moxifleet/moxi/internal/binproto"
	"github.com/moxifleet/moxi/mapstore"
)

// poolBucketMap is bucket name's map over addr, selected with password.
// It names no SASL user for the servers, which are plain memcacheds.
func poolBucketMap(t *testing.T, name, password, addr string) *mapstore.Map {
	t.Helper()
	m := staticMap(t, addr).M
	m.Name, m.Password = name, password
	return m
}

// startPool runs a proxy whose only port is a pool with no buckets yet.
func startPool(t *testing.T) *testProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	beh := DefaultBehavior()
	beh.DownstreamProtocol = "binary"
	return startProxyPort(t, port, Config{Pools: []Pool{{Port: port, Behavior: beh}}})
}

// expectClosedAtOnce asserts the proxy closes a new text client without
// sending a byte, as moxi does while no bucket is configured (MB-3113).
func expectClosedAtOnce(t *testing.T, addr string) {
	t.Helper()
	c := dialBin(t, addr)
	c.send([]byte("version\r\n"))
	c.expectClosed()
}

// TestPoolBuckets follows a pool's buckets through a config stream's
// life: no bucket (clients closed at once), a bucket with a password
// only (text clients on the NULL bucket), two buckets (text clients on
// "default", SASL selecting the other), "default" left out (its clients
// refused, the other served), "default" back (revived in place), a
// message whose "default" part was bad (kept), and no buckets again.
func TestPoolBuckets(t *testing.T) {
	ms, addrs := memcacheds(t, 2)
	p := startPool(t)
	expectClosedAtOnce(t, p.addr)

	def := poolBucketMap(t, "default", "", addrs[0])
	other := poolBucketMap(t, "other", "secret", addrs[1])
	apply := func(keep []string, maps ...*mapstore.Map) {
		t.Helper()
		if err := p.srv.ApplyPool(p.port, maps, keep); err != nil {
			t.Fatal(err)
		}
	}
	apply(nil, other) // no "default": unauthenticated clients get the NULL bucket
	null := dial(t, p.addr)
	null.send("set k 0 0 1\r\nx\r\nget k\r\n")
	null.expect("SERVER_ERROR unauthorized, null bucket\r\nEND\r\n")

	apply(nil, def, other)
	text := dial(t, p.addr)
	text.send("set k 0 0 3\r\ndef\r\n")
	text.expect("STORED\r\n")
	direct := dial(t, ms[0].Addr)
	direct.send("get k\r\n")
	direct.expect("VALUE k 0 3\r\ndef\r\nEND\r\n")

	bin := dialBin(t, p.addr)
	bin.send(binReq(binproto.OpSASLAuth, "PLAIN", "\x00other\x00wrong", nil, 1))
	expectStatus(t, bin.recv(), binproto.OpSASLAuth, binproto.StatusAuthError, 1)
	bin.send(binReq(binproto.OpSASLAuth, "PLAIN", "\x00other\x00secret", nil, 2))
	expectStatus(t, bin.recv(), binproto.OpSASLAuth, binproto.StatusOK, 2)
	bin.send(binReq(binproto.OpSet, "k", "oth", setExtras(0, 0), 3))
	expectStatus(t, bin.recv(), binproto.OpSet, binproto.StatusOK, 3)
	direct = dial(t, ms[1].Addr)
	direct.send("get k\r\n")
	direct.expect("VALUE k 0 3\r\noth\r\nEND\r\n")

	apply(nil, other) // default shut down
	text.send("get k\r\n")
	text.expect("SERVER_ERROR proxy out of downstreams\r\n")
	bin.send(binReq(binproto.OpGetK, "k", "", nil, 4))
	expectStatus(t, bin.recv(), binproto.OpGetK, binproto.StatusOK, 4)
	fresh := dial(t, p.addr) // seated on default, shut down as it is
	fresh.send("set k 0 0 1\r\nx\r\n")
	fresh.expect("SERVER_ERROR proxy out of downstreams\r\n")

	apply(nil, def, other) // default revived in place
	text.send("get k\r\n")
	text.expect("VALUE k 0 3\r\ndef\r\nEND\r\n")
	fresh.send("get k\r\n")
	fresh.expect("VALUE k 0 3\r\ndef\r\nEND\r\n")

	apply([]string{"default"}, other) // default's part was bad: kept
	text.send("get k\r\n")
	text.expect("VALUE k 0 3\r\ndef\r\nEND\r\n")

	apply(nil) // {"buckets":[]}
	expectClosedAtOnce(t, p.addr)
	text.send("get k\r\n")
	text.expect("SERVER_ERROR proxy out of downstreams\r\n")
}

// TestClosedBeforeFirstConfig checks MB-3113 for a bucket fed by a map
// source that has no map yet: clients are closed at once, then served
// once the map arrives.
func TestClosedBeforeFirstConfig(t *testing.T) {
	addrs := servers(t, 1)
	src := &poolMap{}
	beh := DefaultBehavior()
	p := startProxyConfig(t, Config{}, Bucket{Name: "default", Behavior: beh, Maps: src})
	expectClosedAtOnce(t, p.addr)
	src.m.Store(staticMap(t, addrs...).M)
	c := dial(t, p.addr)
	c.send("set k 0 0 1\r\nx\r\nget k\r\n")
	c.expect("STORED\r\nVALUE k 0 1\r\nx\r\nEND\r\n")
}
