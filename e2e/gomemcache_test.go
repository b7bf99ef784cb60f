package e2e

import (
	"errors"
	"fmt"
	"testing"

	"github.com/bradfitz/gomemcache/memcache"
)

// exerciseClient runs every command gomemcache has against addr and checks
// the memcached semantics. It flushes the server(s) behind addr.
func exerciseClient(t *testing.T, addr string) {
	t.Helper()
	c := newClient(addr)
	steps := []struct {
		name string
		fn   func(*memcache.Client) error
	}{
		{"set/get", checkSetGet},
		{"add", checkAdd},
		{"replace", checkReplace},
		{"append/prepend", checkAppendPrepend},
		{"cas", checkCAS},
		{"get_multi", checkGetMulti},
		{"delete", checkDelete},
		{"incr/decr", checkIncrDecr},
		{"touch/gat", checkTouch},
		{"flush_all", checkFlushAll},
		{"ping(version)", func(c *memcache.Client) error { return c.Ping() }},
	}
	for _, s := range steps {
		if err := s.fn(c); err != nil {
			t.Errorf("%s via %s: %v", s.name, addr, err)
		}
	}
}

// wantErr compares an error with an expected sentinel (nil for success).
func wantErr(op string, got, want error) error {
	if !errors.Is(got, want) && !(got == nil && want == nil) {
		return fmt.Errorf("%s: got error %v, want %v", op, got, want)
	}
	return nil
}

// wantValue fetches key and compares value and flags.
func wantValue(c *memcache.Client, key, value string, flags uint32) error {
	it, err := c.Get(key)
	if err != nil {
		return fmt.Errorf("get %q: %w", key, err)
	}
	if string(it.Value) != value || it.Flags != flags {
		return fmt.Errorf("get %q = %q flags %d, want %q flags %d", key, it.Value, it.Flags, value, flags)
	}
	return nil
}

func checkSetGet(c *memcache.Client) error {
	if err := c.Set(&memcache.Item{Key: "sg", Value: []byte("hello"), Flags: 42}); err != nil {
		return err
	}
	if err := wantValue(c, "sg", "hello", 42); err != nil {
		return err
	}
	if err := c.Set(&memcache.Item{Key: "sg-empty", Value: []byte{}}); err != nil {
		return err
	}
	if err := wantValue(c, "sg-empty", "", 0); err != nil {
		return err
	}
	_, err := c.Get("sg-missing")
	return wantErr("get missing", err, memcache.ErrCacheMiss)
}

func checkAdd(c *memcache.Client) error {
	if err := c.Add(&memcache.Item{Key: "add", Value: []byte("1")}); err != nil {
		return err
	}
	err := c.Add(&memcache.Item{Key: "add", Value: []byte("2")})
	if err := wantErr("add existing", err, memcache.ErrNotStored); err != nil {
		return err
	}
	return wantValue(c, "add", "1", 0)
}

func checkReplace(c *memcache.Client) error {
	err := c.Replace(&memcache.Item{Key: "rep", Value: []byte("x")})
	if err := wantErr("replace missing", err, memcache.ErrNotStored); err != nil {
		return err
	}
	if err := c.Set(&memcache.Item{Key: "rep", Value: []byte("a")}); err != nil {
		return err
	}
	if err := c.Replace(&memcache.Item{Key: "rep", Value: []byte("b"), Flags: 7}); err != nil {
		return err
	}
	return wantValue(c, "rep", "b", 7)
}

func checkAppendPrepend(c *memcache.Client) error {
	err := c.Append(&memcache.Item{Key: "ap-missing", Value: []byte("x")})
	if err := wantErr("append missing", err, memcache.ErrNotStored); err != nil {
		return err
	}
	if err := c.Set(&memcache.Item{Key: "ap", Value: []byte("mid"), Flags: 3}); err != nil {
		return err
	}
	if err := c.Append(&memcache.Item{Key: "ap", Value: []byte(">>")}); err != nil {
		return err
	}
	if err := c.Prepend(&memcache.Item{Key: "ap", Value: []byte("<<")}); err != nil {
		return err
	}
	return wantValue(c, "ap", "<<mid>>", 3)
}

func checkCAS(c *memcache.Client) error {
	if err := c.Set(&memcache.Item{Key: "cas", Value: []byte("v1")}); err != nil {
		return err
	}
	it, err := c.Get("cas")
	if err != nil {
		return err
	}
	stale := *it
	it.Value = []byte("v2")
	if err := c.CompareAndSwap(it); err != nil {
		return fmt.Errorf("cas with fresh token: %w", err)
	}
	stale.Value = []byte("v3")
	if err := wantErr("cas with stale token", c.CompareAndSwap(&stale), memcache.ErrCASConflict); err != nil {
		return err
	}
	if err := c.Delete("cas"); err != nil {
		return err
	}
	if err := wantErr("cas on deleted key", c.CompareAndSwap(it), memcache.ErrCacheMiss); err != nil {
		return err
	}
	return nil
}

func checkGetMulti(c *memcache.Client) error {
	want := map[string]string{}
	for i := range 20 {
		k, v := fmt.Sprintf("gm-%d", i), fmt.Sprintf("value-%d", i)
		want[k] = v
		if err := c.Set(&memcache.Item{Key: k, Value: []byte(v), Flags: uint32(i)}); err != nil {
			return err
		}
	}
	keys := []string{"gm-missing-1"}
	for k := range want {
		keys = append(keys, k)
	}
	keys = append(keys, "gm-missing-2")
	got, err := c.GetMulti(keys)
	if err != nil {
		return err
	}
	if len(got) != len(want) {
		return fmt.Errorf("get_multi returned %d items, want %d", len(got), len(want))
	}
	for k, v := range want {
		if it, ok := got[k]; !ok || string(it.Value) != v || it.CasID == 0 {
			return fmt.Errorf("get_multi[%q] = %+v, want %q with a cas", k, it, v)
		}
	}
	return nil
}

func checkDelete(c *memcache.Client) error {
	if err := c.Set(&memcache.Item{Key: "del", Value: []byte("x")}); err != nil {
		return err
	}
	if err := c.Delete("del"); err != nil {
		return err
	}
	if err := wantErr("delete again", c.Delete("del"), memcache.ErrCacheMiss); err != nil {
		return err
	}
	_, err := c.Get("del")
	return wantErr("get deleted", err, memcache.ErrCacheMiss)
}

func checkIncrDecr(c *memcache.Client) error {
	if err := c.Set(&memcache.Item{Key: "n", Value: []byte("10")}); err != nil {
		return err
	}
	steps := []struct {
		incr  bool
		delta uint64
		want  uint64
	}{{true, 5, 15}, {false, 3, 12}, {false, 100, 0}, {true, 18446744073709551615, 18446744073709551615}, {true, 2, 1}}
	for _, s := range steps {
		var got uint64
		var err error
		if s.incr {
			got, err = c.Increment("n", s.delta)
		} else {
			got, err = c.Decrement("n", s.delta)
		}
		if err != nil || got != s.want {
			return fmt.Errorf("incr=%v %d: got %d, %v; want %d", s.incr, s.delta, got, err, s.want)
		}
	}
	if _, err := c.Increment("n-missing", 1); !errors.Is(err, memcache.ErrCacheMiss) {
		return fmt.Errorf("incr missing: %v, want cache miss", err)
	}
	if err := c.Set(&memcache.Item{Key: "n-text", Value: []byte("abc")}); err != nil {
		return err
	}
	if _, err := c.Increment("n-text", 1); err == nil {
		return errors.New("incr of a non-numeric value succeeded")
	}
	return nil
}

func checkTouch(c *memcache.Client) error {
	if err := c.Set(&memcache.Item{Key: "touch", Value: []byte("t"), Expiration: 100}); err != nil {
		return err
	}
	if err := c.Touch("touch", 1000); err != nil {
		return fmt.Errorf("touch: %w", err)
	}
	if err := wantErr("touch missing", c.Touch("touch-missing", 10), memcache.ErrCacheMiss); err != nil {
		return err
	}
	it, err := c.GetAndTouch("touch", 500)
	if err != nil || string(it.Value) != "t" {
		return fmt.Errorf("gat: %+v, %v", it, err)
	}
	_, err = c.GetAndTouch("touch-missing", 500)
	if err := wantErr("gat missing", err, memcache.ErrCacheMiss); err != nil {
		return err
	}
	// A negative expiration expires the item at once.
	if err := c.Touch("touch", -1); err != nil {
		return fmt.Errorf("touch -1: %w", err)
	}
	_, err = c.Get("touch")
	return wantErr("get after touch -1", err, memcache.ErrCacheMiss)
}

func checkFlushAll(c *memcache.Client) error {
	if err := c.Set(&memcache.Item{Key: "fl", Value: []byte("x")}); err != nil {
		return err
	}
	if err := c.FlushAll(); err != nil {
		return err
	}
	_, err := c.Get("fl")
	return wantErr("get after flush_all", err, memcache.ErrCacheMiss)
}

// TestGomemcacheMemcached checks the checks: they must pass against memcached.
func TestGomemcacheMemcached(t *testing.T) {
	t.Parallel()
	exerciseClient(t, startMemcached(t).Addr)
}

func TestGomemcacheProxyOneServer(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t)
	exerciseClient(t, startProxy(t, []string{mc.Addr}, "").Addr)
}

func TestGomemcacheProxyFourServers(t *testing.T) {
	t.Parallel()
	ms := startMemcacheds(t, 4)
	exerciseClient(t, startProxy(t, addrs(ms), "").Addr)
}

func TestGomemcacheProxyBinaryDownstream(t *testing.T) {
	t.Parallel()
	ms := startMemcacheds(t, 2)
	m := startMoxi(t, func(port int) []string {
		return []string{"-z", fmt.Sprintf("%d=%s,%s", port, ms[0].Addr, ms[1].Addr)}
	})
	exerciseClient(t, m.Addr)
}

func TestGomemcacheBuiltinServer(t *testing.T) {
	t.Parallel()
	exerciseClient(t, startServer(t).Addr)
}

// TestGomemcacheChain runs client -> moxi -> moxi -p (built-in server).
func TestGomemcacheChain(t *testing.T) {
	t.Parallel()
	backend := startServer(t)
	exerciseClient(t, startProxy(t, []string{backend.Addr}, "").Addr)
}
