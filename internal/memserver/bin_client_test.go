package memserver

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/couchbase/gomemcached"
	mcclient "github.com/couchbase/gomemcached/client"
)

// TestGomemcachedClient drives memserver through a real binary-protocol
// client library.
func TestGomemcachedClient(t *testing.T) {
	addr, _ := startMemserver(t, Config{})
	mc, err := mcclient.Connect("tcp", addr)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = mc.Close() })
	// must fails the test on an error; t.Helper makes it name the line.
	must := func(res *gomemcached.MCResponse, err error) *gomemcached.MCResponse {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	set := must(mc.Set(0, "k", 42, 0, []byte("v1")))
	got := must(mc.Get(0, "k"))
	if string(got.Body) != "v1" || binary.BigEndian.Uint32(got.Extras) != 42 || got.Cas != set.Cas || set.Cas == 0 {
		t.Fatalf("get: %q flags %x cas %d, set cas %d", got.Body, got.Extras, got.Cas, set.Cas)
	}
	_, err = mc.Add(0, "k", 0, 0, []byte("x"))
	wantStatus(t, "add existing", err, gomemcached.KEY_EEXISTS)
	must(mc.SetCas(0, "k", 0, 0, set.Cas, []byte("v2")))
	_, err = mc.SetCas(0, "k", 0, 0, set.Cas, []byte("v3"))
	wantStatus(t, "stale cas", err, gomemcached.KEY_EEXISTS)
	must(mc.Append(0, "k", []byte("+")))
	if got := must(mc.GetAndTouch(0, "k", 100)); string(got.Body) != "v2+" {
		t.Fatalf("gat after append: %q", got.Body)
	}

	testGomemcachedCounters(t, mc)

	bulk := map[string]*gomemcached.MCResponse{}
	if err := mc.GetBulk(0, []string{"k", "n", "missing"}, bulk, nil); err != nil {
		t.Fatalf("bulk get: %v", err)
	}
	if len(bulk) != 2 || string(bulk["k"].Body) != "v2+" || string(bulk["n"].Body) != "0 " {
		t.Fatalf("bulk get: %v", bulk)
	}
	must(mc.Del(0, "k"))
	_, err = mc.Get(0, "k")
	wantStatus(t, "get deleted", err, gomemcached.KEY_ENOENT)
	stats, err := mc.StatsMap("")
	if err != nil || stats["curr_items"] != "1" || stats["version"] != "1.6.18" {
		t.Fatalf("stats: curr_items=%q version=%q err=%v", stats["curr_items"], stats["version"], err)
	}
}

func testGomemcachedCounters(t *testing.T, mc *mcclient.Client) {
	t.Helper()
	steps := []struct {
		what         string
		incr         bool
		delta, init  uint64
		exp          int
		want         uint64
		wantNotFound bool
	}{
		{"create", true, 5, 41, 0, 41, false},
		{"incr", true, 1, 0, 0, 42, false},
		{"decr to zero", false, 50, 0, 0, 0, false},
		{"no create", true, 1, 0, -1, 0, true}, // exp 0xffffffff
	}
	for _, s := range steps {
		key := "n"
		if s.wantNotFound {
			key = "missing"
		}
		f := mc.Decr
		if s.incr {
			f = mc.Incr
		}
		v, err := f(0, key, s.delta, s.init, s.exp)
		if s.wantNotFound {
			if !gomemcached.IsNotFound(err) {
				t.Fatalf("%s: %d %v, want not found", s.what, v, err)
			}
			continue
		}
		if err != nil || v != s.want {
			t.Fatalf("%s: %d %v, want %d", s.what, v, err, s.want)
		}
	}
	_, err := mc.Incr(0, "k", 1, 0, 0)
	wantStatus(t, "incr non-numeric", err, gomemcached.DELTA_BADVAL)
}

// wantStatus checks that err is a reply with status st.
func wantStatus(t *testing.T, what string, err error, st gomemcached.Status) {
	t.Helper()
	var res *gomemcached.MCResponse
	if !errors.As(err, &res) || res.Status != st {
		t.Fatalf("%s: got %v, want status %v", what, err, st)
	}
}
