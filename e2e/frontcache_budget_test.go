package e2e

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"
)

// The flood: far more distinct hot data than the budget, in values large
// enough that an entry's cost is its value (the cache's few hundred
// bytes of bookkeeping per entry are noise next to 512 KiB), sized for a
// 2-core CI machine: 400 MiB of replies through the proxy in about a
// second.
const (
	floodBudget  = 16 << 20  // front_cache_bytes
	floodValue   = 512 << 10 // bytes per value
	floodValues  = 400       // distinct values: 200 MiB, 12.5 budgets
	floodReaders = 4         // connections reading at once, each its share of the values
	warmValues   = 32        // uncacheable values read before the baseline
	// floodAllowance is the growth beyond the budget the test tolerates.
	// The Go heap runs up to twice its live size between collections
	// (GOGC=100), so 16 MiB held can take 32 MiB; each reader has a 512
	// KiB reply in flight in a few copies (read buffer, parsed value,
	// reply), and values the cache declined are garbage until the next
	// collection. Measured: 38 to 44 MiB of growth in all. 48 MiB above
	// the budget leaves room for a loaded machine, yet a budget ignored
	// shows: the cache then keeps the 200 MiB (about 265 MiB of growth),
	// and even one that fell back to the 64 MiB default grows 140 MiB.
	floodAllowance = 48 << 20
)

// TestFrontCacheByteBudget: front_cache_bytes bounds the memory the front
// cache holds while 200 MiB of distinct values are read hot through the
// proxy, measured as the proxy's resident memory from the outside. The
// cache must have held and answered values, so the test does not pass
// with caching off.
func TestFrontCacheByteBudget(t *testing.T) {
	t.Parallel()
	// -m 2048: memcached keeps every value (its default 64 MiB would
	// evict most and the flood would read misses); -I 2m: room above the
	// 512 KiB values whatever memcached's slab rounding.
	mc := startMemcached(t, "-m", "2048", "-I", "2m")
	// moxi without -race, as TestPipelinedFloodMemoryBounded's: the race
	// detector's shadow memory would triple every byte measured (and
	// slow the flood fivefold).
	bin := nonRaceMoxi(t)
	proxy := launch(t, "moxi", bin, func(port int) []string {
		return []string{"-l", "127.0.0.1", "-z", fmt.Sprintf("%d=%s", port, mc.Addr), "-Z", fmt.Sprintf(
			"downstream_protocol=ascii,front_cache_max=1000,front_cache_lifespan=600000,front_cache_spec=big,front_cache_bytes=%d",
			floodBudget)}
	})
	load(t, mc.Addr, "big", floodValues)
	load(t, mc.Addr, "warm", warmValues)

	// The baseline is taken after the same kind of traffic, uncached
	// (front_cache_spec=big does not match "warm"), so that it already
	// holds the buffers and heap a flood of 512 KiB replies needs anyway:
	// the growth after is what caching adds.
	readFlood(t, proxy.Addr, "warm", warmValues, false)
	if n := proxyCounter(t, proxy.Addr, "tot_front_cache_adds"); n != 0 {
		t.Fatalf("the cache learnt %d uncacheable values", n)
	}
	before, _ := memStatus(t, proxy)

	start := time.Now()
	readFlood(t, proxy.Addr, "big", floodValues, true)
	took := time.Since(start)
	after, peak := memStatus(t, proxy)
	adds := proxyCounter(t, proxy.Addr, "tot_front_cache_adds")
	hits := proxyCounter(t, proxy.Addr, "tot_front_cache_hits")
	growth := after - before
	limit := int64(floodBudget + floodAllowance)
	t.Logf("flood of %d x %d KiB, each read twice, in %v: RSS %d MiB -> %d MiB (growth %d MiB, peak %d MiB); "+
		"allowed growth %d MiB; front cache adds %d, hits %d",
		floodValues, floodValue>>10, took.Round(time.Millisecond), before>>20, after>>20,
		growth>>20, peak>>20, limit>>20, adds, hits)
	if adds == 0 || hits == 0 {
		t.Errorf("front cache adds %d, hits %d: the cache did not hold values, the bound proves nothing", adds, hits)
	}
	if growth > limit {
		t.Errorf("moxi's RSS grew %d MiB over the flood, more than the %d MiB budget plus %d MiB: "+
			"front_cache_bytes does not bound the cache", growth>>20, floodBudget>>20, floodAllowance>>20)
	}
}

// floodKey is the key of value i of a family.
func floodKey(family string, i int) string { return fmt.Sprintf("%s:%04d", family, i) }

// appendFloodData appends value i of a family: distinct per key (its
// key, then filler that varies with i), floodValue bytes, in one copy
// (this is the test's hot path under -race).
func appendFloodData(dst []byte, family string, i int) []byte {
	k := floodKey(family, i)
	return append(append(dst, k...), floodFiller[i%len(floodFiller)][:floodValue-len(k)]...)
}

// floodFiller are the values' filler, one per letter.
var floodFiller = func() (f [26][]byte) {
	for c := range f {
		f[c] = bytes.Repeat([]byte{byte('a' + c)}, floodValue)
	}
	return f
}()

// load stores n values of a family straight into memcached, so that the
// proxy sees only the reads.
func load(t *testing.T, addr, family string, n int) {
	t.Helper()
	rc := dial(t, addr)
	buf := make([]byte, 0, floodValue+64)
	for i := range n {
		buf = fmt.Appendf(buf[:0], "set %s 0 0 %d\r\n", floodKey(family, i), floodValue)
		buf = append(appendFloodData(buf, family, i), "\r\n"...)
		_ = rc.c.SetWriteDeadline(time.Now().Add(ioTimeout))
		if _, err := rc.c.Write(buf); err != nil {
			t.Fatalf("set %s: %v", floodKey(family, i), err)
		}
		if got := rc.reply(); got != "STORED\r\n" {
			t.Fatalf("set %s: %q", floodKey(family, i), got)
		}
	}
}

// readFlood gets every value of a family through the proxy on
// floodReaders connections at once, checking each reply; with again,
// each value is got a second time one get later, when the cache (which
// takes values in asynchronously) has had the time to learn it. It
// reads replies into one buffer per connection and builds each expected
// value once: under -race, a string per 512 KiB reply would make the
// test, not the proxy, the slow side.
func readFlood(t *testing.T, proxy, family string, n int, again bool) {
	t.Helper()
	errs := make(chan error, floodReaders)
	for r := range floodReaders {
		rc := dial(t, proxy)
		go func() {
			buf := make([]byte, floodValue+len("\r\nEND\r\n"))
			var prev *floodGet
			for i := r; i < n; i += floodReaders {
				cur := newFloodGet(family, i)
				if err := cur.on(rc, buf); err != nil {
					errs <- err
					return
				}
				if again && prev != nil {
					if err := prev.on(rc, buf); err != nil {
						errs <- err
						return
					}
				}
				prev = cur
			}
			if again && prev != nil {
				errs <- prev.on(rc, buf)
				return
			}
			errs <- nil
		}()
	}
	for range floodReaders {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// floodGet is a get of value i of a family and the reply it must get:
// head, then rest.
type floodGet struct {
	key, head string
	rest      []byte
}

func newFloodGet(family string, i int) *floodGet {
	key := floodKey(family, i)
	return &floodGet{key: key, head: fmt.Sprintf("VALUE %s 0 %d\r\n", key, floodValue),
		rest: append(appendFloodData(make([]byte, 0, floodValue+7), family, i), "\r\nEND\r\n"...)}
}

// on sends the get on rc and checks its reply, read into buf. It does
// not fail the test: it runs off the test's goroutine.
func (g *floodGet) on(rc *rawConn, buf []byte) error {
	_ = rc.c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(rc.c, "get "+g.key+"\r\n"); err != nil {
		return fmt.Errorf("get %s: %w", g.key, err)
	}
	line, err := rc.r.ReadString('\n')
	if err != nil || line != g.head {
		return fmt.Errorf("get %s: reply %q (%v), want %q", g.key, line, err, g.head)
	}
	if _, err := io.ReadFull(rc.r, buf[:len(g.rest)]); err != nil {
		return fmt.Errorf("get %s: %w", g.key, err)
	}
	if !bytes.Equal(buf[:len(g.rest)], g.rest) {
		return fmt.Errorf("get %s: value %q, want %q", g.key, abbrev(string(buf[:len(g.rest)])), abbrev(string(g.rest)))
	}
	return nil
}
