package memserver

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

// TestGomemcacheClient drives memserver through a real client library.
func TestGomemcacheClient(t *testing.T) {
	addr, _ := startMemserver(t, Config{})
	mc := memcache.New(addr)
	if err := mc.Ping(); err != nil {
		t.Fatalf("ping: %v", err)
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("set", mc.Set(&memcache.Item{Key: "k", Value: []byte("v1"), Flags: 42}))
	it, err := mc.Get("k")
	must("get", err)
	if string(it.Value) != "v1" || it.Flags != 42 {
		t.Fatalf("get: %q flags %d", it.Value, it.Flags)
	}
	if err := mc.Add(&memcache.Item{Key: "k", Value: []byte("x")}); !errors.Is(err, memcache.ErrNotStored) {
		t.Fatalf("add existing: %v", err)
	}
	it.Value = []byte("v2")
	must("cas", mc.CompareAndSwap(it))
	it.Value = []byte("v3")
	if err := mc.CompareAndSwap(it); !errors.Is(err, memcache.ErrCASConflict) {
		t.Fatalf("stale cas: %v", err)
	}
	must("set n", mc.Set(&memcache.Item{Key: "n", Value: []byte("41")}))
	if v, err := mc.Increment("n", 1); err != nil || v != 42 {
		t.Fatalf("incr: %d %v", v, err)
	}
	if v, err := mc.Decrement("n", 50); err != nil || v != 0 {
		t.Fatalf("decr: %d %v", v, err)
	}
	must("touch", mc.Touch("k", 100))
	m, err := mc.GetMulti([]string{"k", "n", "missing"})
	must("getmulti", err)
	if len(m) != 2 || string(m["k"].Value) != "v2" {
		t.Fatalf("getmulti: %v", m)
	}
	must("delete", mc.Delete("k"))
	if _, err := mc.Get("k"); !errors.Is(err, memcache.ErrCacheMiss) {
		t.Fatalf("get deleted: %v", err)
	}
	must("flush", mc.FlushAll())
	if _, err := mc.Get("n"); !errors.Is(err, memcache.ErrCacheMiss) {
		t.Fatalf("get after flush: %v", err)
	}
}

// TestShutdownWithIdleConnection checks that an idle client does not hold
// Shutdown up.
func TestShutdownWithIdleConnection(t *testing.T) {
	s := New(Config{Version: "test"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	cl := dial(t, ln.Addr().String())
	if got, err := cl.exchange("version\r\n"); err != nil || got != "VERSION test\r\n" {
		t.Fatalf("version: %q %v", got, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
