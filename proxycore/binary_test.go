package proxycore

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/moxifleet/moxi/internal/binproto"
)

func binaryProxy(t *testing.T, addrs []string) *testProxy {
	return startProxy(t, addrs, func(b *Behavior) { b.DownstreamProtocol = "binary" })
}

// TestBinaryQuietMultiGet: a client's SETQ... NOOP and GETKQ... NOOP over
// four servers come back as memcached would answer them: silent sets, the
// hits with their opaques, then the client's NOOP.
func TestBinaryQuietMultiGet(t *testing.T) {
	addrs := servers(t, 4)
	p := binaryProxy(t, addrs)
	c := dialBin(t, p.addr)
	const n = 100
	var sets [][]byte
	for i := 0; i < n; i++ {
		sets = append(sets, binReq(binproto.OpSetQ, fmt.Sprintf("bk%d", i), fmt.Sprintf("v%d", i), setExtras(uint32(i), 0), uint32(i)))
	}
	c.send(append(sets, binReq(binproto.OpNoop, "", "", nil, 999))...)
	expectStatus(t, c.recv(), binproto.OpNoop, binproto.StatusOK, 999)

	var gets [][]byte
	for i := 0; i < n+50; i++ {
		gets = append(gets, binReq(binproto.OpGetKQ, fmt.Sprintf("bk%d", i), "", nil, uint32(i)))
	}
	c.send(append(gets, binReq(binproto.OpNoop, "", "", nil, 1000))...)
	seen := map[uint32]bool{}
	for {
		r := c.recv()
		if r.Opcode == binproto.OpNoop {
			expectStatus(t, r, binproto.OpNoop, binproto.StatusOK, 1000)
			break
		}
		i := r.Opaque
		if r.Opcode != binproto.OpGetKQ || r.Status() != binproto.StatusOK || string(r.Key) != fmt.Sprintf("bk%d", i) ||
			string(r.Value) != fmt.Sprintf("v%d", i) || binary.BigEndian.Uint32(r.Extras) != i || r.CAS == 0 {
			t.Fatalf("bad hit: op 0x%02x status %d opaque %d key %q value %q", r.Opcode, r.Status(), i, r.Key, r.Value)
		}
		seen[i] = true
	}
	if len(seen) != n {
		t.Fatalf("got %d hits, want %d", len(seen), n)
	}
	for si, a := range addrs {
		d := dial(t, a)
		d.send("stats\r\n")
		items := ""
		for l := d.line(); l != "END\r\n"; l = d.line() {
			if v, ok := strings.CutPrefix(l, "STAT curr_items "); ok {
				items = strings.TrimSpace(v)
			}
		}
		if items == "0" || items == "" {
			t.Errorf("server %d holds no keys", si)
		}
	}
}

// TestBinaryRelaysBytes: replies to keyed commands are the server's own,
// opaque and CAS included.
func TestBinaryRelaysBytes(t *testing.T) {
	addrs := servers(t, 2)
	p := binaryProxy(t, addrs)
	c := dialBin(t, p.addr)
	c.send(binReq(binproto.OpSet, "rk", "hello", setExtras(7, 0), 0xdeadbeef))
	set := c.recv()
	expectStatus(t, set, binproto.OpSet, binproto.StatusOK, 0xdeadbeef)
	if set.CAS == 0 {
		t.Fatal("SET reply carries no CAS")
	}
	c.send(binReq(binproto.OpGetK, "rk", "", nil, 5))
	get := c.recv()
	expectStatus(t, get, binproto.OpGetK, binproto.StatusOK, 5)
	if get.CAS != set.CAS || string(get.Value) != "hello" || string(get.Key) != "rk" || binary.BigEndian.Uint32(get.Extras) != 7 {
		t.Fatalf("GETK: cas %d (set %d) key %q value %q", get.CAS, set.CAS, get.Key, get.Value)
	}
	cas := binproto.AppendRequest(nil, binproto.OpSet, 0, 6, set.CAS+1, setExtras(0, 0), []byte("rk"), []byte("x"))
	c.send(cas)
	expectStatus(t, c.recv(), binproto.OpSet, binproto.StatusKeyExists, 6)
	incr := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, 5), 10)
	incr = binary.BigEndian.AppendUint32(incr, 0)
	c.send(binReq(binproto.OpIncrement, "ctr", "", incr, 7), binReq(binproto.OpIncrement, "ctr", "", incr, 8))
	expectStatus(t, c.recv(), binproto.OpIncrement, binproto.StatusOK, 7)
	r := c.recv()
	expectStatus(t, r, binproto.OpIncrement, binproto.StatusOK, 8)
	if binary.BigEndian.Uint64(r.Value) != 15 {
		t.Fatalf("incr: got %d, want 15 (initial 10, then +5)", binary.BigEndian.Uint64(r.Value))
	}
	c.send(binReq(binproto.OpDelete, "rk", "", nil, 9), binReq(binproto.OpGet, "rk", "", nil, 10))
	expectStatus(t, c.recv(), binproto.OpDelete, binproto.StatusOK, 9)
	expectStatus(t, c.recv(), binproto.OpGet, binproto.StatusKeyNotFound, 10)
}

// TestBinaryBroadcast: FLUSH reaches every server and gets one reply;
// FLUSHQ is silent; STAT merges every server's counters.
func TestBinaryBroadcast(t *testing.T) {
	addrs := servers(t, 3)
	p := binaryProxy(t, addrs)
	c := dialBin(t, p.addr)
	var sets [][]byte
	for i := 0; i < 30; i++ {
		sets = append(sets, binReq(binproto.OpSetQ, fmt.Sprintf("f%d", i), "v", setExtras(0, 0), 0))
	}
	c.send(append(sets, binReq(binproto.OpStat, "", "", nil, 3))...)
	stats := map[string]string{}
	for {
		r := c.recv()
		expectStatus(t, r, binproto.OpStat, binproto.StatusOK, 3)
		if len(r.Key) == 0 {
			break
		}
		stats[string(r.Key)] = string(r.Value)
	}
	if stats["curr_items"] != "30" {
		t.Fatalf("merged curr_items = %q, want 30 (summed over servers)", stats["curr_items"])
	}
	c.send(binReq(binproto.OpFlush, "", "", nil, 4))
	expectStatus(t, c.recv(), binproto.OpFlush, binproto.StatusOK, 4)
	c.send(binReq(binproto.OpGetK, "f1", "", nil, 5))
	expectStatus(t, c.recv(), binproto.OpGetK, binproto.StatusKeyNotFound, 5)
	c.send(binReq(binproto.OpSetQ, "f2", "v", setExtras(0, 0), 0), binReq(binproto.OpFlushQ, "", "", nil, 6), binReq(binproto.OpNoop, "", "", nil, 7))
	expectStatus(t, c.recv(), binproto.OpNoop, binproto.StatusOK, 7)
	c.send(binReq(binproto.OpGetK, "f2", "", nil, 8))
	expectStatus(t, c.recv(), binproto.OpGetK, binproto.StatusKeyNotFound, 8)
}

// TestBinaryLocalCommands are answered by the proxy itself.
func TestBinaryLocalCommands(t *testing.T) {
	addrs := servers(t, 1)
	p := binaryProxy(t, addrs)
	c := dialBin(t, p.addr)
	c.send(binReq(binproto.OpVersion, "", "", nil, 1), binReq(binproto.OpNoop, "", "", nil, 2),
		binReq(binproto.OpSASLListMechs, "", "", nil, 3), binReq(binproto.OpSASLStep, "PLAIN", "x", nil, 4),
		binReq(binproto.OpStat, "proxy", "", nil, 5))
	v := c.recv()
	expectStatus(t, v, binproto.OpVersion, binproto.StatusOK, 1)
	if string(v.Value) != "test" {
		t.Fatalf("version %q", v.Value)
	}
	expectStatus(t, c.recv(), binproto.OpNoop, binproto.StatusOK, 2)
	m := c.recv()
	expectStatus(t, m, binproto.OpSASLListMechs, binproto.StatusOK, 3)
	if string(m.Value) != "PLAIN" {
		t.Fatalf("mechs %q", m.Value)
	}
	expectStatus(t, c.recv(), binproto.OpSASLStep, binproto.StatusAuthError, 4)
	n := 0
	for r := c.recv(); len(r.Key) > 0; r = c.recv() {
		expectStatus(t, r, binproto.OpStat, binproto.StatusOK, 5)
		n++
	}
	if n < 10 {
		t.Fatalf("stats proxy gave %d packets", n)
	}
	c.send(binReq(binproto.OpQuit, "", "", nil, 6))
	expectStatus(t, c.recv(), binproto.OpQuit, binproto.StatusOK, 6)
	c.expectClosed()
}

// TestBinaryBadInput: memcached's answers to malformed requests.
func TestBinaryBadInput(t *testing.T) {
	addrs := servers(t, 1)
	p := binaryProxy(t, addrs)

	// No key: memcached swallows an unknown command's body counted from
	// after its key, eating into the next request, and so does the proxy.
	c := dialBin(t, p.addr)
	c.send(binReq(0x50, "", "", nil, 1), binReq(binproto.OpNoop, "", "", nil, 2))
	r := c.recv()
	expectStatus(t, r, 0x50, binproto.StatusUnknownCommand, 1)
	if string(r.Value) != "Unknown command" {
		t.Fatalf("unknown command body %q", r.Value)
	}
	expectStatus(t, c.recv(), binproto.OpNoop, binproto.StatusOK, 2)

	c = dialBin(t, p.addr)
	c.send(binReq(binproto.OpGetK, strings.Repeat("k", 251), "", nil, 3))
	expectStatus(t, c.recv(), binproto.OpGetK, binproto.StatusInvalid, 3)
	c.expectClosed()

	c = dialBin(t, p.addr)
	c.send(binReq(binproto.OpNoop, "", "", nil, 4))
	expectStatus(t, c.recv(), binproto.OpNoop, binproto.StatusOK, 4)
	bad := binReq(binproto.OpNoop, "", "", nil, 5)
	bad[0] = 0x42
	c.send(bad)
	c.expectClosed()

	c = dialBin(t, p.addr)
	c.send(binReq(binproto.OpSet, "big", strings.Repeat("x", 2<<20), setExtras(0, 0), 6), binReq(binproto.OpNoop, "", "", nil, 7))
	expectStatus(t, c.recv(), binproto.OpSet, binproto.StatusTooBig, 6)
	expectStatus(t, c.recv(), binproto.OpNoop, binproto.StatusOK, 7)
}

// TestBinaryDeadServer: a dead server costs only its own keys: its quiet
// sets get an error each, its quiet gets read as misses.
func TestBinaryDeadServer(t *testing.T) {
	addrs := servers(t, 1)
	addrs = append(addrs, deadAddr(t))
	p := binaryProxy(t, addrs)
	live, dead := keyOn(t, p, 0, "live"), keyOn(t, p, 1, "dead")
	c := dialBin(t, p.addr)
	c.send(binReq(binproto.OpSetQ, live, "v", setExtras(0, 0), 1), binReq(binproto.OpSetQ, dead, "v", setExtras(0, 0), 2),
		binReq(binproto.OpNoop, "", "", nil, 3))
	expectStatus(t, c.recv(), binproto.OpSetQ, binproto.StatusInternal, 2)
	expectStatus(t, c.recv(), binproto.OpNoop, binproto.StatusOK, 3)
	c.send(binReq(binproto.OpGetKQ, dead, "", nil, 4), binReq(binproto.OpGetKQ, live, "", nil, 5), binReq(binproto.OpNoop, "", "", nil, 6))
	expectStatus(t, c.recv(), binproto.OpGetKQ, binproto.StatusOK, 5)
	expectStatus(t, c.recv(), binproto.OpNoop, binproto.StatusOK, 6)
	c.send(binReq(binproto.OpGetK, dead, "", nil, 7))
	r := c.recv()
	expectStatus(t, r, binproto.OpGetK, binproto.StatusInternal, 7)
	if string(r.Value) != "Internal error" {
		t.Fatalf("body %q", r.Value)
	}
}

// TestBinaryClientTextDownstream: binary clients need a binary downstream;
// with ascii servers they get a clear error and the connection stays up.
func TestBinaryClientTextDownstream(t *testing.T) {
	addrs := servers(t, 1)
	p := startProxy(t, addrs, nil)
	c := dialBin(t, p.addr)
	c.send(binReq(binproto.OpGetK, "k", "", nil, 1), binReq(binproto.OpNoop, "", "", nil, 2))
	r := c.recv()
	expectStatus(t, r, binproto.OpGetK, binproto.StatusNotSupported, 1)
	if !strings.Contains(string(r.Value), "downstream_protocol=binary") {
		t.Fatalf("body %q does not say what to change", r.Value)
	}
	expectStatus(t, c.recv(), binproto.OpNoop, binproto.StatusOK, 2)
}
