package proxycore

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/binproto"
)

// frontCacheOn caches every key starting "k" for a minute.
func frontCacheOn(b *Behavior) {
	b.FrontCacheMax, b.FrontCacheLifespan, b.FrontCacheSpec = 1000, time.Minute, "k"
}

// rawExchange writes req on c and reads until the reply is as long as
// want's, returning what came (the test compares bytes).
func rawExchange(t *testing.T, c net.Conn, r *bufio.Reader, req []byte, n int) []byte {
	t.Helper()
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, n)
	if _, err := io.ReadFull(r, got); err != nil {
		t.Fatalf("read %d bytes after %q: %v (got %q)", n, req, err, got)
	}
	return got
}

// sameFromCache sends req to memcached and twice through the proxy: the
// second proxy reply must come from the front cache (hits grow) and both
// must be byte-identical to memcached's.
func sameFromCache(t *testing.T, p *testProxy, direct, via net.Conn, dr, vr *bufio.Reader, req []byte) {
	t.Helper()
	want := rawExchange(t, direct, dr, req, 0)
	_ = direct.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 64<<10)
	n, _ := dr.Read(buf)
	_ = direct.SetReadDeadline(time.Now().Add(20 * time.Second))
	want = append(want, buf[:n]...)
	if len(want) == 0 {
		t.Fatalf("%q: memcached sent nothing", req)
	}
	if got := rawExchange(t, via, vr, req, len(want)); !bytes.Equal(got, want) {
		t.Fatalf("%q via the proxy (filling):\n got %q\nwant %q", req, got, want)
	}
	st := &onlyBucket(p).stats
	waitUntil(t, "the cache answers "+string(req), func() bool {
		before := st.get(totFrontCacheHits)
		got := rawExchange(t, via, vr, req, len(want))
		if !bytes.Equal(got, want) {
			t.Fatalf("%q via the proxy:\n got %q\nwant %q", req, got, want)
		}
		return st.get(totFrontCacheHits) > before
	})
}

func rawConn(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	c := dialConn(t, addr)
	return c, bufio.NewReader(c)
}

// TestFrontCacheMetaAnswers: mg forms the cache can answer come back
// byte for byte as memcached sends them (flags in the client's order,
// cas, key, size, opaque), in both downstream protocols; forms it cannot
// answer (t) go to the server.
func TestFrontCacheMetaAnswers(t *testing.T) {
	ms, addrs := memcacheds(t, 1)
	_ = ms
	bothProtocols(t, func(t *testing.T, proto func(*Behavior)) {
		p := startProxy(t, addrs, func(b *Behavior) { proto(b); frontCacheOn(b) })
		direct, dr := rawConn(t, addrs[0])
		via, vr := rawConn(t, p.addr)
		key := fmt.Sprintf("kmeta%p", p)
		rawExchange(t, direct, dr, []byte("set "+key+" 42 0 5\r\nhello\r\n"), len("STORED\r\n"))
		// Learnt from an mg that carries v, f and c.
		for _, req := range []string{"mg %s v f c", "mg %s v", "mg %s s v f c k Oab q", "mg %s", "mg %s k",
			"mg %s c f", "mg %s Ox v"} {
			sameFromCache(t, p, direct, via, dr, vr, []byte(fmt.Sprintf(req, key)+"\r\n"))
		}
		st := &onlyBucket(p).stats
		before := st.get(totFrontCacheHits)
		rawExchange(t, via, vr, []byte("mg "+key+" v t\r\n"), len("VA 5 t-1\r\nhello\r\n"))
		if st.get(totFrontCacheHits) != before {
			t.Fatal("mg with t was answered from the cache")
		}
	})
}

// TestFrontCacheTextLearnsForMeta: a value learnt from a text get (no
// cas) answers an mg without c, and an mg with c goes to the server and
// then is answered with the cas.
func TestFrontCacheTextLearnsForMeta(t *testing.T) {
	_, addrs := memcacheds(t, 1)
	p := startProxy(t, addrs, frontCacheOn)
	direct, dr := rawConn(t, addrs[0])
	via, vr := rawConn(t, p.addr)
	rawExchange(t, direct, dr, []byte("set kt 3 0 2\r\nhi\r\n"), len("STORED\r\n"))
	sameFromCache(t, p, direct, via, dr, vr, []byte("get kt\r\n"))
	sameFromCache(t, p, direct, via, dr, vr, []byte("mg kt v f\r\n"))
	sameFromCache(t, p, direct, via, dr, vr, []byte("mg kt v f c\r\n"))
	sameFromCache(t, p, direct, via, dr, vr, []byte("gets kt\r\n"))
}

// TestFrontCacheBinaryAnswers: binary GET and GETK, alone and in a quiet
// group with a miss in it, come back byte for byte as memcached sends
// them (flags, cas, key, opaque), the group's misses staying silent.
func TestFrontCacheBinaryAnswers(t *testing.T) {
	_, addrs := memcacheds(t, 1)
	p := startProxy(t, addrs, func(b *Behavior) { b.DownstreamProtocol = "binary"; frontCacheOn(b) })
	direct, dr := rawConn(t, addrs[0])
	via, vr := rawConn(t, p.addr)
	extras := []byte{0, 0, 0, 9, 0, 0, 0, 0}
	rawExchange(t, direct, dr, binproto.AppendRequest(nil, binproto.OpSet, 0, 1, 0, extras, []byte("kb1"), []byte("one")), 24)
	rawExchange(t, direct, dr, binproto.AppendRequest(nil, binproto.OpSet, 0, 1, 0, extras, []byte("kb2"), []byte("two")), 24)
	sameFromCache(t, p, direct, via, dr, vr, binproto.AppendRequest(nil, binproto.OpGet, 0, 7, 0, nil, []byte("kb1"), nil))
	sameFromCache(t, p, direct, via, dr, vr, binproto.AppendRequest(nil, binproto.OpGetK, 0, 8, 0, nil, []byte("kb2"), nil))
	var group []byte
	group = binproto.AppendRequest(group, binproto.OpGetKQ, 0, 1, 0, nil, []byte("kb1"), nil)
	group = binproto.AppendRequest(group, binproto.OpGetQ, 0, 2, 0, nil, []byte("kmissing"), nil)
	group = binproto.AppendRequest(group, binproto.OpGetQ, 0, 3, 0, nil, []byte("kb2"), nil)
	group = binproto.AppendRequest(group, binproto.OpNoop, 0, 4, 0, nil, nil, nil)
	sameFromCache(t, p, direct, via, dr, vr, group)
}

// TestCommandCountsQuietGroup: a quiet group's packets count by command
// and outcome from the responses placed for the client: a GETKQ that hit
// (from the server, then from the front cache), a GETQ that missed, a
// SETQ; the NOOP that ends the group counts as noop.
func TestCommandCountsQuietGroup(t *testing.T) {
	_, addrs := memcacheds(t, 1)
	p := startProxy(t, addrs, func(b *Behavior) { b.DownstreamProtocol = "binary"; frontCacheOn(b) })
	via, vr := rawConn(t, p.addr)
	extras := []byte{0, 0, 0, 0, 0, 0, 0, 0}
	rawExchange(t, via, vr, binproto.AppendRequest(nil, binproto.OpSet, 0, 1, 0, extras, []byte("kq"), []byte("v")), 24)
	cmds := &onlyBucket(p).cmds
	get, set, noop := commandKind(0), commandKind(0), cmdNoop
	names := commandNames()
	for k := range numCommandKinds {
		switch names[k] {
		case "get":
			get = k
		case "set":
			set = k
		}
	}
	setsBefore := cmds.v[set][statusOK].Load()
	for round := range 2 {
		var group []byte
		group = binproto.AppendRequest(group, binproto.OpGetKQ, 0, 1, 0, nil, []byte("kq"), nil)
		group = binproto.AppendRequest(group, binproto.OpGetQ, 0, 2, 0, nil, []byte("kabsent"), nil)
		group = binproto.AppendRequest(group, binproto.OpSetQ, 0, 3, 0, extras, []byte("kother"), []byte("x"))
		group = binproto.AppendRequest(group, binproto.OpNoop, 0, 4, 0, nil, nil, nil)
		hit := binproto.AppendResponse(nil, binproto.OpGetKQ, binproto.StatusOK, 1, 0, []byte{0, 0, 0, 0}, []byte("kq"), []byte("v"))
		got := rawExchange(t, via, vr, group, len(hit)+24)
		if got[1] != byte(binproto.OpGetKQ) || got[len(hit)+1] != byte(binproto.OpNoop) {
			t.Fatalf("round %d: responses %q", round, got)
		}
		waitUntil(t, "the group counted", func() bool { return cmds.v[noop][statusOK].Load() == uint64(round+1) })
		if h, m := cmds.v[get][statusHit].Load(), cmds.v[get][statusMiss].Load(); h != uint64(round+1) || m != uint64(round+1) {
			t.Fatalf("round %d: get hits %d misses %d, want %d each", round, h, m, round+1)
		}
		if s := cmds.v[set][statusOK].Load() - setsBefore; s != uint64(round+1) {
			t.Fatalf("round %d: quiet sets counted %d, want %d", round, s, round+1)
		}
	}
}
