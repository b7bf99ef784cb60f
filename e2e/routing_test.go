package e2e

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/bradfitz/gomemcache/memcache"
)

// storeKeys sets n keys "<prefix>-<i>" = "v<i>" through addr with one
// pipelined write and returns the keys.
func storeKeys(t *testing.T, addr, prefix string, n int) []string {
	t.Helper()
	keys := make([]string, n)
	var req strings.Builder
	for i := range keys {
		keys[i] = fmt.Sprintf("%s-%d", prefix, i)
		v := "v" + strconv.Itoa(i)
		fmt.Fprintf(&req, "set %s %d 0 %d\r\n%s\r\n", keys[i], i%7, len(v), v)
	}
	for i, r := range pipeline(t, addr, req.String(), n) {
		if r != "STORED\r\n" {
			t.Fatalf("set %s: %q", keys[i], r)
		}
	}
	return keys
}

// pipeline writes req in one write (from a goroutine, so a proxy that
// answers before reading everything cannot deadlock us) and reads n replies.
func pipeline(t *testing.T, addr, req string, n int) []string {
	t.Helper()
	rc := dial(t, addr)
	werr := make(chan error, 1)
	go func() {
		_, err := rc.c.Write([]byte(req))
		werr <- err
	}()
	out := make([]string, n)
	for i := range out {
		out[i] = rc.reply()
	}
	if err := <-werr; err != nil {
		t.Fatalf("pipelined write: %v", err)
	}
	return out
}

// ownersOf asks every server directly which of keys it holds; it fails if a
// key is on no server or on several.
func ownersOf(t *testing.T, servers []string, keys []string) map[string]int {
	t.Helper()
	owner := map[string]int{}
	for i, s := range servers {
		items, err := newClient(s).GetMulti(keys)
		if err != nil {
			t.Fatalf("direct get_multi on %s: %v", s, err)
		}
		for k := range items {
			if prev, dup := owner[k]; dup {
				t.Fatalf("key %q is on server %d and %d", k, prev, i)
			}
			owner[k] = i
		}
	}
	for _, k := range keys {
		if _, ok := owner[k]; !ok {
			t.Fatalf("key %q is on no server", k)
		}
	}
	return owner
}

// checkPlacement stores keys through a proxy and checks each landed on the
// server locate predicts, and that every server got some.
func checkPlacement(t *testing.T, proxy string, servers []string, locate func(string) int) {
	t.Helper()
	keys := storeKeys(t, proxy, "place", 400)
	owner := ownersOf(t, servers, keys)
	count := make([]int, len(servers))
	wrong := 0
	for _, k := range keys {
		count[owner[k]]++
		if want := locate(k); owner[k] != want {
			if wrong++; wrong <= 5 {
				t.Errorf("key %q stored on server %d, the distribution says %d", k, owner[k], want)
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d keys on the wrong server", wrong, len(keys))
	}
	for i, c := range count {
		if c == 0 {
			t.Errorf("server %d got no keys (counts %v)", i, count)
		}
	}
	t.Logf("keys per server: %v", count)
}

func TestKetamaPlacement(t *testing.T) {
	t.Parallel()
	ms := startMemcacheds(t, 4)
	servers := addrs(ms)
	k, err := newKetama(servers, make([]int, len(servers)))
	if err != nil {
		t.Fatal(err)
	}
	checkPlacement(t, startProxy(t, servers, "").Addr, servers, k.locate)
}

// TestWeightedKetamaPlacement uses the host:port:weight form.
func TestWeightedKetamaPlacement(t *testing.T) {
	t.Parallel()
	ms := startMemcacheds(t, 4)
	servers := addrs(ms)
	weights := []int{1, 2, 3, 4}
	k, err := newKetama(servers, weights)
	if err != nil {
		t.Fatal(err)
	}
	withWeights := make([]string, len(servers))
	for i, s := range servers {
		withWeights[i] = fmt.Sprintf("%s:%d", s, weights[i])
	}
	checkPlacement(t, startProxy(t, withWeights, "").Addr, servers, k.locate)
}

// TestModulaPlacement: mcs_opts=distribution:modula is one_at_a_time % n.
func TestModulaPlacement(t *testing.T) {
	t.Parallel()
	ms := startMemcacheds(t, 4)
	servers := addrs(ms)
	proxy := startProxy(t, servers, "mcs_opts=distribution:modula")
	checkPlacement(t, proxy.Addr, servers, func(k string) int { return int(oneAtATime(k) % uint32(len(servers))) })
}

// oneAtATime is libhashkit's default hash (bytes sign-extended as on x86).
func oneAtATime(key string) uint32 {
	var h uint32
	for i := 0; i < len(key); i++ {
		h += uint32(int32(int8(key[i])))
		h += h << 10
		h ^= h >> 6
	}
	h += h << 3
	h ^= h >> 11
	h += h << 15
	return h
}

// multiGetRequest builds a get for keys and the reply memcached gives when
// the stored keys are those in values.
func multiGetRequest(cmd string, keys []string, values map[string]string) (req, want string) {
	var r, w strings.Builder
	r.WriteString(cmd)
	for _, k := range keys {
		r.WriteString(" " + k)
		if v, ok := values[k]; ok {
			fmt.Fprintf(&w, "VALUE %s %s %d\r\n%s\r\n", k, flagsOf(k), len(v), v)
		}
	}
	r.WriteString("\r\n")
	w.WriteString("END\r\n")
	return r.String(), w.String()
}

// flagsOf is the flags storeKeys gave key "<prefix>-<i>".
func flagsOf(key string) string {
	i, _ := strconv.Atoi(key[strings.LastIndexByte(key, '-')+1:])
	return strconv.Itoa(i % 7)
}

// TestMultiGet: big multi-gets over four servers come back in the client's
// key order, duplicates repeated and misses left out.
func TestMultiGet(t *testing.T) {
	t.Parallel()
	ms := startMemcacheds(t, 4)
	proxy := startProxy(t, addrs(ms), "").Addr
	stored := storeKeys(t, proxy, "mk", 10000)
	values := map[string]string{}
	for i, k := range stored {
		values[k] = "v" + strconv.Itoa(i)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 4, 100, 10000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			keys := make([]string, n)
			for i := range keys {
				switch r := rng.IntN(10); {
				case r == 0:
					keys[i] = fmt.Sprintf("missing-%d", i)
				case r == 1 && i > 0:
					keys[i] = keys[rng.IntN(i)] // duplicate
				default:
					keys[i] = stored[rng.IntN(len(stored))]
				}
			}
			req, want := multiGetRequest("get", keys, values)
			rc := dial(t, proxy)
			if got := rc.call(req); got != want {
				t.Errorf("get of %d keys: reply differs from memcached's (%d vs %d bytes)\n got %q\nwant %q",
					n, len(got), len(want), abbrev(got), abbrev(want))
			}
		})
	}
}

// TestMultiGetsCas: gets over several servers returns a cas per value, and
// a cas taken from it works.
func TestMultiGetsCas(t *testing.T) {
	t.Parallel()
	ms := startMemcacheds(t, 4)
	proxy := startProxy(t, addrs(ms), "").Addr
	keys := storeKeys(t, proxy, "gc", 20)
	items, err := newClient(proxy).GetMulti(keys)
	if err != nil || len(items) != len(keys) {
		t.Fatalf("get_multi: %d items, %v", len(items), err)
	}
	c := newClient(proxy)
	for _, k := range keys {
		it := items[k]
		it.Value = []byte("swapped")
		if err := c.CompareAndSwap(it); err != nil {
			t.Errorf("cas %q with the cas from a multi-gets: %v", k, err)
		}
	}
}

// randomRequest returns one request of a pipelining mix on keys "p0".."p49".
func randomRequest(rng *rand.Rand) string {
	k := "p" + strconv.Itoa(rng.IntN(50))
	k2 := "p" + strconv.Itoa(rng.IntN(50))
	v := strings.Repeat("x", rng.IntN(20))
	switch rng.IntN(12) {
	case 0, 1:
		return fmt.Sprintf("set %s 3 0 %d\r\n%s\r\n", k, len(v), v)
	case 2:
		return fmt.Sprintf("get %s\r\n", k)
	case 3:
		return fmt.Sprintf("get %s %s %s\r\n", k, k2, k)
	case 4:
		return fmt.Sprintf("add %s 0 0 %d\r\n%s\r\n", k, len(v), v)
	case 5:
		return fmt.Sprintf("set %s 0 0 2\r\n%02d\r\n", k, rng.IntN(100))
	case 6:
		return fmt.Sprintf("incr %s %d\r\n", k, rng.IntN(5))
	case 7:
		return fmt.Sprintf("delete %s\r\n", k)
	case 8:
		return fmt.Sprintf("append %s 0 0 %d\r\n%s\r\n", k, len(v), v)
	case 9:
		return fmt.Sprintf("touch %s 1000\r\n", k)
	case 10:
		return fmt.Sprintf("mg %s v k f\r\n", k)
	default:
		return "bogus command\r\n"
	}
}

// TestPipelining writes 1,000 mixed requests in one write and requires the
// replies in order, byte-identical to memcached's.
func TestPipelining(t *testing.T) {
	t.Parallel()
	direct := startMemcached(t)
	ms := startMemcacheds(t, 4)
	proxy := startProxy(t, addrs(ms), "")
	rng := rand.New(rand.NewPCG(3, 4))
	var req strings.Builder
	const n = 1000
	for range n {
		req.WriteString(randomRequest(rng))
	}
	want := pipeline(t, direct.Addr, req.String(), n)
	got := pipeline(t, proxy.Addr, req.String(), n)
	bad := 0
	for i := range want {
		if got[i] != want[i] {
			if bad++; bad <= 5 {
				t.Errorf("reply %d: got %q, want %q", i, abbrev(got[i]), abbrev(want[i]))
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d pipelined replies differ", bad, n)
	}
}

// TestFlushAllReachesEveryServer: flush_all through moxi empties all four.
func TestFlushAllReachesEveryServer(t *testing.T) {
	t.Parallel()
	ms := startMemcacheds(t, 4)
	servers := addrs(ms)
	proxy := startProxy(t, servers, "").Addr
	keys := storeKeys(t, proxy, "fa", 100)
	ownersOf(t, servers, keys)
	dial(t, proxy).expect("flush_all\r\n", "OK\r\n")
	for _, s := range servers {
		if items, err := newClient(s).GetMulti(keys); err != nil || len(items) != 0 {
			t.Errorf("server %s after flush_all: %d items, %v", s, len(items), err)
		}
	}
}

// TestStatsMerged: "stats" through moxi sums counters over the servers.
func TestStatsMerged(t *testing.T) {
	t.Parallel()
	ms := startMemcacheds(t, 4)
	servers := addrs(ms)
	proxy := startProxy(t, servers, "").Addr
	storeKeys(t, proxy, "st", 100)
	sums := map[string]uint64{}
	for _, s := range servers {
		for _, name := range []string{"curr_items", "total_items", "threads"} {
			v, err := strconv.ParseUint(statsOf(t, s, "stats")[name], 10, 64)
			if err != nil {
				t.Fatalf("stats %s on %s: %v", name, s, err)
			}
			sums[name] += v
		}
	}
	merged := statsOf(t, proxy, "stats")
	for name, want := range sums {
		if got := merged[name]; got != strconv.FormatUint(want, 10) {
			t.Errorf("merged stats %s = %q, want the sum %d", name, got, want)
		}
	}
	if merged["curr_items"] != "100" {
		t.Errorf("merged curr_items = %q, want 100", merged["curr_items"])
	}
	if got := merged["limit_maxbytes"]; got != strconv.Itoa(64<<20) {
		t.Errorf("merged limit_maxbytes = %q, want the largest, %d", got, 64<<20)
	}
}

// TestGomemcacheManyKeys drives the four-server proxy with gomemcache's
// GetMulti over many keys (one line per server on the client side).
func TestGomemcacheManyKeys(t *testing.T) {
	t.Parallel()
	ms := startMemcacheds(t, 4)
	proxy := startProxy(t, addrs(ms), "").Addr
	c := newClient(proxy)
	keys := make([]string, 500)
	for i := range keys {
		keys[i] = fmt.Sprintf("gk-%d", i)
		if err := c.Set(&memcache.Item{Key: keys[i], Value: []byte(keys[i])}); err != nil {
			t.Fatalf("set %s: %v", keys[i], err)
		}
	}
	items, err := c.GetMulti(keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if it, ok := items[k]; !ok || string(it.Value) != k {
			t.Errorf("get_multi %q = %v", k, it)
		}
	}
}

// TestConcurrentClients: many clients at once through the four-server
// proxy each read back exactly what they wrote (and, with a -race binary,
// the proxy's concurrency is checked too).
func TestConcurrentClients(t *testing.T) {
	t.Parallel()
	ms := startMemcacheds(t, 4)
	proxy := startProxy(t, addrs(ms), "").Addr
	const clients, rounds = 16, 100
	errs := make(chan error, clients)
	for i := range clients {
		go func() {
			c := newClient(proxy)
			for r := range rounds {
				k := fmt.Sprintf("cc-%d-%d", i, r%10)
				v := fmt.Sprintf("%d:%d", i, r)
				if err := c.Set(&memcache.Item{Key: k, Value: []byte(v)}); err != nil {
					errs <- fmt.Errorf("client %d set %s: %w", i, k, err)
					return
				}
				if err := wantValue(c, k, v, 0); err != nil {
					errs <- fmt.Errorf("client %d: %w", i, err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
