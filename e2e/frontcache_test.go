package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/binproto"
)

// frontCacheZ turns the front cache on for keys starting "yes" but not
// "yesno", with the given lifespan.
func frontCacheZ(lifespan time.Duration) string {
	return "front_cache_max=1000,front_cache_spec=yes,front_cache_unspec=yesno,front_cache_lifespan=" +
		strconv.Itoa(int(lifespan/time.Millisecond))
}

// cacheAnswers sends req through the proxy at addr until its front cache
// answers it (tot_front_cache_hits grows), every reply being want, so
// that the test knows the entry is in.
func cacheAnswers(t *testing.T, addr string, rc *rawConn, req, want string) {
	t.Helper()
	eventually(t, 5*time.Second, func() error {
		before := proxyCounter(t, addr, "tot_front_cache_hits")
		if got := rc.call(req); got != want {
			t.Fatalf("%q: %q, want %q", req, got, want)
		}
		if proxyCounter(t, addr, "tot_front_cache_hits") == before {
			return fmt.Errorf("%q not answered from the cache yet", req)
		}
		return nil
	})
}

// TestFrontCacheStaleness: a write behind the proxy's back is visible
// through it after the lifespan, not before, for cacheable keys only
// (the original's MB-2980 case), in both downstream protocols.
func TestFrontCacheStaleness(t *testing.T) {
	t.Parallel()
	const lifespan = 1500 * time.Millisecond
	for _, proto := range []string{"ascii", "binary"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			mc := startMemcached(t)
			proxy := startProxy(t, []string{mc.Addr}, "downstream_protocol="+proto+","+frontCacheZ(lifespan))
			rc, direct := dial(t, proxy.Addr), dial(t, mc.Addr)
			rc.expect("set yes1 7 0 3\r\nold\r\n", "STORED\r\n")
			rc.expect("set yesno1 7 0 3\r\nold\r\n", "STORED\r\n")
			cacheAnswers(t, proxy.Addr, rc, "get yes1\r\n", "VALUE yes1 7 3\r\nold\r\nEND\r\n")
			direct.expect("set yes1 7 0 3\r\nnew\r\n", "STORED\r\n")
			direct.expect("set yesno1 7 0 3\r\nnew\r\n", "STORED\r\n")
			written := time.Now()
			rc.expect("get yes1 yesno1\r\n", "VALUE yes1 7 3\r\nold\r\nVALUE yesno1 7 3\r\nnew\r\nEND\r\n")
			eventually(t, lifespan+3*time.Second, func() error {
				if got := rc.call("get yes1\r\n"); got != "VALUE yes1 7 3\r\nnew\r\nEND\r\n" {
					return fmt.Errorf("still %q", got)
				}
				return nil
			})
			if d := time.Since(written); d > lifespan+time.Second {
				t.Errorf("the new value showed %v after the write; lifespan %v", d, lifespan)
			}
		})
	}
}

// TestFrontCacheInvalidation: every command through the proxy that may
// change a cached key drops it at once, in the text, meta and binary
// protocols, noreply and quiet forms included; flush_all drops all.
func TestFrontCacheInvalidation(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t)
	proxy := startProxy(t, []string{mc.Addr}, "downstream_protocol=binary,"+frontCacheZ(time.Hour))
	rc := dial(t, proxy.Addr)
	for _, c := range []struct{ name, send, want, after string }{
		{"set", "set yesk 0 0 1\r\nB\r\n", "STORED\r\n", "B"},
		{"set noreply", "set yesk 0 0 1 noreply\r\nB\r\n", "", "B"},
		{"append", "append yesk 0 0 1\r\nB\r\n", "STORED\r\n", "AB"},
		{"prepend noreply", "prepend yesk 0 0 1 noreply\r\nB\r\n", "", "BA"},
		{"replace", "replace yesk 0 0 1\r\nB\r\n", "STORED\r\n", "B"},
		{"incr", "incr yesk 1\r\n", "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n", "A"},
		{"delete", "delete yesk\r\n", "DELETED\r\n", ""},
		{"ms", "ms yesk 1\r\nB\r\n", "HD\r\n", "B"},
		{"ms quiet", "ms yesk 1 q\r\nB\r\nmn\r\n", "MN\r\n", "B"},
		{"md", "md yesk\r\n", "HD\r\n", ""},
		{"ma", "ma yesk\r\n", "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n", "A"},
		{"flush_all", "flush_all\r\n", "OK\r\n", ""},
	} {
		rc.expect("set yesk 0 0 1\r\nA\r\n", "STORED\r\n")
		cacheAnswers(t, proxy.Addr, rc, "get yesk\r\n", "VALUE yesk 0 1\r\nA\r\nEND\r\n")
		if c.want != "" {
			rc.expect(c.send, c.want)
		} else {
			rc.send(c.send)
		}
		want := "END\r\n"
		if c.after != "" {
			want = fmt.Sprintf("VALUE yesk 0 %d\r\n%s\r\nEND\r\n", len(c.after), c.after)
		}
		if got := rc.call("get yesk\r\n"); got != want {
			t.Errorf("%s: then get: %q, want %q", c.name, got, want)
		}
	}
	// A binary client's quiet set drops the key for the text clients.
	rc.expect("set yesk 0 0 1\r\nA\r\n", "STORED\r\n")
	cacheAnswers(t, proxy.Addr, rc, "get yesk\r\n", "VALUE yesk 0 1\r\nA\r\nEND\r\n")
	bc := dialBinary(t, proxy.Addr)
	bc.send(binReq(binproto.OpSetQ, "yesk", "Z", storeExtras(0, 0), 1), binReq(binproto.OpNoop, "", "", nil, 2))
	bc.expect(binproto.OpNoop, binproto.StatusOK, 2)
	if got := rc.call("get yesk\r\n"); got != "VALUE yesk 0 1\r\nZ\r\nEND\r\n" {
		t.Errorf("binary SETQ, then text get: %q", got)
	}
	// gets from the cache carries the server's CAS, as the server would.
	rc.expect("set yesc 0 0 1\r\nC\r\n", "STORED\r\n")
	fromServer := rc.call("gets yesc\r\n")
	cacheAnswers(t, proxy.Addr, rc, "gets yesc\r\n", fromServer)
}

// TestFrontCacheReadYourWrites: while other clients keep reading two hot
// keys (so the cache keeps learning them), each writer's get right after
// its own set through the proxy returns what it set: a value read before
// a write never lands in the cache after it.
func TestFrontCacheReadYourWrites(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{"ascii", "binary"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			readYourWrites(t, proto)
		})
	}
}

func readYourWrites(t *testing.T, proto string) {
	mc := startMemcached(t)
	proxy := startProxy(t, []string{mc.Addr}, "downstream_protocol="+proto+","+frontCacheZ(time.Hour))
	stop := make(chan struct{})
	readersDone := make(chan struct{})
	for range 2 {
		rc := dial(t, proxy.Addr)
		go func() {
			defer func() { readersDone <- struct{}{} }()
			for {
				select {
				case <-stop:
					return
				default:
				}
				rc.send("get yesA yesB\r\n")
				for {
					if l := rc.reply(); l == "END\r\n" || strings.HasSuffix(l, "END\r\n") {
						break
					}
				}
			}
		}()
	}
	errs := make(chan error, 2)
	for _, key := range []string{"yesA", "yesB"} {
		rc := dial(t, proxy.Addr)
		go func() {
			for i := range 300 {
				v := strconv.Itoa(i)
				if got := rc.call(fmt.Sprintf("set %s 0 0 %d\r\n%s\r\n", key, len(v), v)); got != "STORED\r\n" {
					errs <- fmt.Errorf("set %s: %q", key, got)
					return
				}
				want := fmt.Sprintf("VALUE %s 0 %d\r\n%s\r\nEND\r\n", key, len(v), v)
				if got := rc.call("get " + key + "\r\n"); got != want {
					errs <- fmt.Errorf("round %d: get %s after setting it: %q, want %q", i, key, got, want)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	close(stop)
	<-readersDone
	<-readersDone
	if hits := proxyCounter(t, proxy.Addr, "tot_front_cache_hits"); hits == 0 {
		t.Error("the cache answered nothing: the test did not exercise it")
	}
}
