package memserver

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for expiry tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestStore(maxBytes int64, noEvict bool) (*store, *fakeClock) {
	c := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	return newStore(maxBytes, noEvict, c.now), c
}

func mustSet(t *testing.T, s *store, mode storeMode, key, val string, exptime int64) storeResult {
	t.Helper()
	res, _ := s.set(&storeReq{mode: mode, key: []byte(key), value: []byte(val), exptime: exptime})
	return res
}

func getVal(s *store, key string) (string, bool) {
	v, ok := s.get([]byte(key), false, 0)
	return string(v.value), ok
}

func TestStoreLRUEvictionOrder(t *testing.T) {
	per := itemSize(1, 10, 0)
	s, _ := newTestStore(3*per, false)
	for _, k := range []string{"a", "b", "c"} {
		mustSet(t, s, modeSet, k, "0123456789", 0)
	}
	getVal(s, "a") // a becomes most recent: b is now the LRU tail
	mustSet(t, s, modeSet, "d", "0123456789", 0)
	if _, ok := getVal(s, "b"); ok {
		t.Fatal("b should have been evicted")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := getVal(s, k); !ok {
			t.Fatalf("%s evicted, want kept", k)
		}
	}
	st, items, bytes := s.stats()
	if st.evictions != 1 || items != 3 || bytes != 3*per {
		t.Fatalf("evictions=%d items=%d bytes=%d, want 1 3 %d", st.evictions, items, bytes, 3*per)
	}
}

func TestStoreByteLimit(t *testing.T) {
	s, _ := newTestStore(1000, false)
	for i := range 100 {
		mustSet(t, s, modeSet, string(rune('A'+i%50))+string(rune('a'+i/50)), "xxxxxxxxxxxxxxxxxxxx", 0)
		if _, _, b := s.stats(); b > 1000 {
			t.Fatalf("used %d bytes over the 1000 limit", b)
		}
	}
	if res := mustSet(t, s, modeSet, "big", string(make([]byte, 1000)), 0); res != resNoMemory {
		t.Fatalf("item larger than the limit: %v, want resNoMemory", res)
	}
}

func TestStoreNoEvict(t *testing.T) {
	per := itemSize(1, 1, 0)
	s, _ := newTestStore(2*per, true)
	mustSet(t, s, modeSet, "a", "1", 0)
	mustSet(t, s, modeSet, "b", "1", 0)
	if res := mustSet(t, s, modeSet, "c", "1", 0); res != resNoMemory {
		t.Fatalf("got %v, want resNoMemory", res)
	}
	// Replacing a key with a same-size value needs no extra memory... but
	// memcached allocates first, so it fails too, and drops the old value.
	if res := mustSet(t, s, modeSet, "a", "2", 0); res != resNoMemory {
		t.Fatalf("got %v, want resNoMemory", res)
	}
	if _, ok := getVal(s, "a"); ok {
		t.Fatal("a failed set must remove the previous value")
	}
}

func TestStoreExpiry(t *testing.T) {
	s, clk := newTestStore(1<<20, false)
	mustSet(t, s, modeSet, "rel", "v", 10)
	mustSet(t, s, modeSet, "neg", "v", -1)
	mustSet(t, s, modeSet, "abs", "v", clk.t.Unix()+100)
	mustSet(t, s, modeSet, "past", "v", clk.t.Unix()-100)
	mustSet(t, s, modeSet, "never", "v", 0)
	for k, want := range map[string]bool{"rel": true, "neg": false, "abs": true, "past": false, "never": true} {
		if _, ok := getVal(s, k); ok != want {
			t.Errorf("%s present=%v, want %v", k, ok, want)
		}
	}
	clk.advance(9 * time.Second)
	if _, ok := getVal(s, "rel"); !ok {
		t.Error("rel expired early")
	}
	clk.advance(time.Second)
	if _, ok := getVal(s, "rel"); ok {
		t.Error("rel still present after its TTL")
	}
	clk.advance(90 * time.Second)
	if _, ok := getVal(s, "abs"); ok {
		t.Error("abs still present after its absolute time")
	}
	if !s.touch([]byte("never"), 5) {
		t.Fatal("touch never: not found")
	}
	clk.advance(5 * time.Second)
	if _, ok := getVal(s, "never"); ok {
		t.Error("touched item did not expire")
	}
}

func TestStoreCas(t *testing.T) {
	s, _ := newTestStore(1<<20, false)
	if res, _ := s.set(&storeReq{mode: modeCas, key: []byte("k"), value: []byte("v"), cas: 1}); res != resNotFound {
		t.Fatalf("cas on missing: %v", res)
	}
	_, cas := s.set(&storeReq{mode: modeSet, key: []byte("k"), value: []byte("v1")})
	if res, _ := s.set(&storeReq{mode: modeCas, key: []byte("k"), value: []byte("v2"), cas: cas + 1}); res != resExists {
		t.Fatalf("cas mismatch: %v", res)
	}
	res, cas2 := s.set(&storeReq{mode: modeCas, key: []byte("k"), value: []byte("v3"), cas: cas})
	if res != resStored || cas2 <= cas {
		t.Fatalf("cas match: %v cas %d -> %d", res, cas, cas2)
	}
	if v, _ := getVal(s, "k"); v != "v3" {
		t.Fatalf("value %q", v)
	}
}

func TestStoreAddReplaceAppendPrepend(t *testing.T) {
	s, _ := newTestStore(1<<20, false)
	steps := []struct {
		mode storeMode
		val  string
		want storeResult
		now  string
	}{
		{modeReplace, "x", resNotStored, ""},
		{modeAppend, "x", resNotStored, ""},
		{modeAdd, "mid", resStored, "mid"},
		{modeAdd, "again", resNotStored, "mid"},
		{modeAppend, ">", resStored, "mid>"},
		{modePrepend, "<", resStored, "<mid>"},
		{modeReplace, "new", resStored, "new"},
	}
	for i, st := range steps {
		if res := mustSet(t, s, st.mode, "k", st.val, 0); res != st.want {
			t.Fatalf("step %d: %v, want %v", i, res, st.want)
		}
		if v, _ := getVal(s, "k"); v != st.now {
			t.Fatalf("step %d: value %q, want %q", i, v, st.now)
		}
	}
	s.set(&storeReq{mode: modeSet, key: []byte("f"), value: []byte("a"), flags: 42})
	s.set(&storeReq{mode: modeAppend, key: []byte("f"), value: []byte("b"), flags: 7})
	if v, _ := s.get([]byte("f"), false, 0); v.flags != 42 || string(v.value) != "ab" {
		t.Fatalf("append changed flags or value: %d %q", v.flags, v.value)
	}
}

func TestStoreIncrDecr(t *testing.T) {
	s, _ := newTestStore(1<<20, false)
	cases := []struct {
		start  string
		incr   bool
		delta  uint64
		code   arithCode
		reply  string
		stored string
	}{
		{"18446744073709551615", true, 1, arithOK, "0", "0                   "},
		{"5", false, 10, arithOK, "0", "0"},
		{"100", false, 1, arithOK, "99", "99 "},
		{"99", true, 1, arithOK, "100", "100"},
		{" 5", true, 1, arithOK, "6", "6 "},
		{"5 junk", true, 1, arithOK, "6", "6     "},
		{"abc", true, 1, arithNonNumeric, "", "abc"},
		{"-1", true, 1, arithNonNumeric, "", "-1"},
		{"", true, 1, arithNonNumeric, "", ""},
		{"18446744073709551616", true, 1, arithNonNumeric, "", "18446744073709551616"},
	}
	for _, c := range cases {
		mustSet(t, s, modeSet, "n", c.start, 0)
		res := s.arith(&arithReq{key: []byte("n"), incr: c.incr, delta: c.delta})
		if res.code != c.code || string(res.reply) != c.reply {
			t.Errorf("%q incr=%v %d: code %v reply %q, want %v %q", c.start, c.incr, c.delta, res.code, res.reply, c.code, c.reply)
		}
		if v, _ := getVal(s, "n"); v != c.stored {
			t.Errorf("%q: stored %q, want %q", c.start, v, c.stored)
		}
	}
	if res := s.arith(&arithReq{key: []byte("missing"), incr: true, delta: 1}); res.code != arithNotFound {
		t.Errorf("missing: %v", res.code)
	}
}

func TestStoreFlush(t *testing.T) {
	s, clk := newTestStore(1<<20, false)
	mustSet(t, s, modeSet, "a", "1", 0)
	s.flush(0)
	if _, ok := getVal(s, "a"); ok {
		t.Fatal("flush_all left a")
	}
	mustSet(t, s, modeSet, "b", "1", 0)
	s.flush(10)
	if _, ok := getVal(s, "b"); !ok {
		t.Fatal("delayed flush applied early")
	}
	clk.advance(10 * time.Second)
	if _, ok := getVal(s, "b"); ok {
		t.Fatal("delayed flush not applied")
	}
	mustSet(t, s, modeSet, "c", "1", 0)
	if _, ok := getVal(s, "c"); !ok {
		t.Fatal("item stored after the flush deadline was dropped")
	}
}

func BenchmarkStoreSet(b *testing.B) {
	s, _ := newTestStore(64<<20, false)
	key, val := []byte("benchmark:key:0001"), make([]byte, 100)
	b.ReportAllocs()
	for b.Loop() {
		s.set(&storeReq{mode: modeSet, key: key, value: val})
	}
}

func BenchmarkStoreGet(b *testing.B) {
	s, _ := newTestStore(64<<20, false)
	key := []byte("benchmark:key:0001")
	s.set(&storeReq{mode: modeSet, key: key, value: make([]byte, 100)})
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := s.get(key, false, 0); !ok {
			b.Fatal("miss")
		}
	}
}

// TestStoreConcurrent exercises the store from many goroutines; run with
// -race. Readers keep using value slices after the lock is released, so
// writers must never modify a stored value in place.
func TestStoreConcurrent(t *testing.T) {
	s, _ := newTestStore(1<<16, false)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			key := []byte{'k', byte('0' + g%3)}
			for i := range 2000 {
				switch i % 4 {
				case 0:
					s.set(&storeReq{mode: modeSet, key: key, value: []byte("100")})
				case 1:
					s.arith(&arithReq{key: key, incr: i%8 == 1, delta: 7})
				case 2:
					s.set(&storeReq{mode: modeAppend, key: key, value: []byte("0")})
				default:
					if v, ok := s.get(key, false, 0); ok {
						_ = append([]byte(nil), v.value...)
					}
				}
			}
		})
	}
	wg.Wait()
	if _, _, b := s.stats(); b > 1<<16 {
		t.Fatalf("over the byte limit: %d", b)
	}
}
