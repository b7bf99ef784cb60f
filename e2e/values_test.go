package e2e

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/bradfitz/gomemcache/memcache"
)

// value returns n deterministic bytes that are not all alike.
func value(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	if n > 10 {
		copy(b[n/2:], "\r\nEND\r\n") // data that looks like protocol must not confuse anyone
	}
	return b
}

// TestValueSizes stores values from 0 bytes up to 1 MiB - 1 KiB through
// moxi. (Like memcached's, moxi's -I limit counts the item header and key,
// so a value of exactly 1 MiB does not fit the default 1m items;
// TestItemSizeBoundary pins the exact edge.)
func TestValueSizes(t *testing.T) {
	t.Parallel()
	ms := startMemcacheds(t, 2)
	c := newClient(startProxy(t, addrs(ms), "").Addr)
	sizes := []int{0, 1, 2, 100, 1023, 1024, 16 << 10, 100 << 10, 512 << 10, 1<<20 - 1024}
	keys := make([]string, len(sizes))
	for i, n := range sizes {
		keys[i] = fmt.Sprintf("size-%d", n)
		if err := c.Set(&memcache.Item{Key: keys[i], Value: value(n), Flags: uint32(n)}); err != nil {
			t.Errorf("set %d bytes: %v", n, err)
			continue
		}
		it, err := c.Get(keys[i])
		if err != nil || !bytes.Equal(it.Value, value(n)) || it.Flags != uint32(n) {
			t.Errorf("get %d bytes: err %v, value equal %v", n, err, err == nil && bytes.Equal(it.Value, value(n)))
		}
	}
	items, err := c.GetMulti(keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range sizes {
		if it, ok := items[keys[i]]; !ok || !bytes.Equal(it.Value, value(n)) {
			t.Errorf("get_multi: value of %d bytes missing or different", n)
		}
	}
}

// TestItemSizeFlag: -I 2m lets a value of nearly 2 MiB through, which the
// default -I 1m refuses, whatever the server behind accepts.
func TestItemSizeFlag(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t, "-I", "4m")
	v := value(2<<20 - 1024)
	err := newClient(startProxy(t, []string{mc.Addr}, "").Addr).Set(&memcache.Item{Key: "big", Value: v})
	if err == nil || !strings.Contains(err.Error(), "SERVER_ERROR object too large for cache") {
		t.Errorf("set of %d bytes with the default -I: %v, want object too large", len(v), err)
	}
	c := newClient(startProxy(t, []string{mc.Addr}, "", "-I", "2m").Addr)
	if err := c.Set(&memcache.Item{Key: "big", Value: v}); err != nil {
		t.Fatalf("set of %d bytes with -I 2m: %v", len(v), err)
	}
	it, err := c.Get("big")
	if err != nil || !bytes.Equal(it.Value, v) {
		t.Fatalf("get of %d bytes: %v (equal %v)", len(v), err, err == nil && bytes.Equal(it.Value, v))
	}
}

// TestItemSizeBoundary: moxi -I 2m (with a roomier memcached behind it)
// accepts and refuses exactly the values memcached -I 2m does.
func TestItemSizeBoundary(t *testing.T) {
	t.Parallel()
	direct, behind := startMemcached(t, "-I", "2m"), startMemcached(t, "-I", "4m")
	var steps []step
	for _, n := range []int{2<<20 - 80, 2<<20 - 66, 2<<20 - 65, 2<<20 - 64, 2<<20 - 50, 2 << 20, 2<<20 + 1} {
		steps = append(steps,
			s1(fmt.Sprintf("set bigkey 0 0 %d\r\n%s\r\n", n, strings.Repeat("b", n))),
			s1("mg bigkey s\r\n"),
			s1("delete bigkey\r\n"))
	}
	compareTranscripts(t, direct.Addr, startProxy(t, []string{behind.Addr}, "", "-I", "2m").Addr, steps)
}

// TestTooLargeValue: with default sizes a 2 MiB set gets memcached's error,
// the data is swallowed and the connection keeps working.
func TestTooLargeValue(t *testing.T) {
	t.Parallel()
	direct, behind := startMemcached(t), startMemcached(t)
	steps := []step{
		s1(fmt.Sprintf("set big 0 0 %d\r\n%s\r\n", 2<<20, strings.Repeat("z", 2<<20))),
		s1("get big\r\n"),
		s1("set small 0 0 1\r\ns\r\n"),
		s1("get small\r\n"),
	}
	compareTranscripts(t, direct.Addr, startProxy(t, []string{behind.Addr}, "").Addr, steps)
}
