package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/moxifleet/moxi/internal/binproto"
)

// TestChainedProxies: client -> moxi A -> moxi B -> memcached with each
// downstream protocol on each hop. A text client (gomemcache) runs on
// every chain, and a binary client (gomemcached) where A speaks binary to
// B. What goes in at the top must be what memcached holds at the bottom,
// and the other way round.
//
// A binary to B ascii cannot carry data: B is then a binary-client proxy
// with a text downstream, which moxi does not translate (as the original
// moxi did not); that chain must refuse clearly instead.
func TestChainedProxies(t *testing.T) {
	t.Parallel()
	for _, a := range []string{"ascii", "binary"} {
		for _, b := range []string{"ascii", "binary"} {
			t.Run("A-"+a+"/B-"+b, func(t *testing.T) {
				t.Parallel()
				mc := startMemcached(t)
				hopB := startProxyEnv(t, []string{mc.Addr}, b, "", nil)
				hopA := startProxyEnv(t, []string{hopB.Addr}, a, "", nil)
				if a == "binary" && b == "ascii" {
					checkChainRefuses(t, hopA.Addr, mc.Addr)
					return
				}
				checkChain(t, hopA.Addr, mc.Addr, a == "binary")
			})
		}
	}
}

// checkChainRefuses: through a binary hop into an ascii-downstream moxi,
// text writes get moxi's a2b error for B's NOT_SUPPORTED, gets miss, a
// binary client gets B's reply naming the setting, and nothing reaches the
// bottom server.
func checkChainRefuses(t *testing.T, top, bottom string) {
	t.Helper()
	rc := dial(t, top)
	rc.expect("set k 0 0 1\r\nx\r\n", "SERVER_ERROR a2b not supported\r\n")
	rc.expect("get k\r\n", "END\r\n")
	rc.expect("delete k\r\n", "SERVER_ERROR a2b not supported\r\n")
	rc.expect("incr k 1\r\n", "SERVER_ERROR a2b not supported\r\n")
	bc := dialBinary(t, top)
	bc.send(binReq(binproto.OpSet, "k", "x", storeExtras(0, 0), 1), binReq(binproto.OpNoop, "", "", nil, 2))
	p := bc.expect(binproto.OpSet, binproto.StatusNotSupported, 1)
	if !strings.Contains(string(p.Value), "downstream_protocol=binary") {
		t.Errorf("binary SET through the chain: body %q does not name downstream_protocol=binary", p.Value)
	}
	bc.expect(binproto.OpNoop, binproto.StatusOK, 2)
	if _, ok := directGet(t, bottom, "k"); ok {
		t.Error("the bottom server holds k although every hop refused it")
	}
}

// TestChainedBuiltinServer: client -> moxi (binary downstream) -> moxi -p.
func TestChainedBuiltinServer(t *testing.T) {
	t.Parallel()
	backend := startServer(t)
	checkChain(t, startBinaryProxy(t, []string{backend.Addr}, "").Addr, backend.Addr, true)
}

// checkChain runs the text client's checks (and the binary client's when
// binaryClient) through top, then checks values end to end against the
// bottom server.
func checkChain(t *testing.T, top, bottom string, binaryClient bool) {
	t.Helper()
	exerciseClient(t, top)
	if binaryClient {
		exerciseGomemcached(t, top, []string{bottom})
	}
	checkEndToEnd(t, top, bottom)
}

// checkEndToEnd: keys set through top are in bottom, keys set in bottom
// are read through top (one multi-get), incr and delete through top act on
// bottom's items.
func checkEndToEnd(t *testing.T, top, bottom string) {
	t.Helper()
	via, direct := newClient(top), newClient(bottom)
	keys := make([]string, 10)
	for i := range keys {
		keys[i] = fmt.Sprintf("e2e-%d", i)
		if err := via.Set(&memcache.Item{Key: keys[i], Value: []byte("top-" + keys[i]), Flags: uint32(i)}); err != nil {
			t.Fatalf("set %s through the chain: %v", keys[i], err)
		}
		if got, ok := directGet(t, bottom, keys[i]); !ok || got != "top-"+keys[i] {
			t.Errorf("bottom holds %q=%q (hit %v), want %q", keys[i], got, ok, "top-"+keys[i])
		}
		if err := direct.Set(&memcache.Item{Key: keys[i], Value: []byte("bottom-" + keys[i]), Flags: uint32(i)}); err != nil {
			t.Fatalf("direct set %s: %v", keys[i], err)
		}
	}
	got, err := via.GetMulti(append(keys, "e2e-missing"))
	if err != nil {
		t.Fatalf("get_multi through the chain: %v", err)
	}
	for i, k := range keys {
		if it := got[k]; it == nil || string(it.Value) != "bottom-"+k || it.Flags != uint32(i) {
			t.Errorf("get_multi through the chain [%q] = %+v, want %q flags %d", k, it, "bottom-"+k, i)
		}
	}
	if len(got) != len(keys) {
		t.Errorf("get_multi through the chain returned %d items, want %d", len(got), len(keys))
	}
	if err := direct.Set(&memcache.Item{Key: "e2e-n", Value: []byte("41")}); err != nil {
		t.Fatal(err)
	}
	if n, err := via.Increment("e2e-n", 1); err != nil || n != 42 {
		t.Errorf("incr through the chain: %d, %v; want 42", n, err)
	}
	if v, _ := directGet(t, bottom, "e2e-n"); v != "42" {
		t.Errorf("bottom holds e2e-n=%q after incr, want 42", v)
	}
	if err := via.Delete(keys[0]); err != nil {
		t.Errorf("delete through the chain: %v", err)
	}
	if _, ok := directGet(t, bottom, keys[0]); ok {
		t.Errorf("bottom still holds %q after delete through the chain", keys[0])
	}
}
