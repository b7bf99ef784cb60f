package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeServer speaks just enough of the text protocol (get, set) and of
// the binary protocol (see serveBinary) for the worker tests, and counts
// the keys it was asked for.
type fakeServer struct {
	ln        net.Listener
	mu        sync.Mutex
	data      map[string][]byte
	requested atomic.Int64
	binary    atomic.Int64 // binary requests served
}

func startFake(t *testing.T) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{ln: ln, data: map[string][]byte{}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *fakeServer) serve(c net.Conn) {
	defer c.Close()
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	if first, err := r.Peek(1); err == nil && first[0] == binMagicReq {
		f.serveBinary(r, w) // as memcached, decided by the first byte
		return
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		fields := strings.Fields(line)
		switch {
		case len(fields) > 1 && fields[0] == "get":
			f.get(w, fields[1:])
		case len(fields) == 5 && fields[0] == "set":
			n, _ := strconv.Atoi(fields[4])
			buf := make([]byte, n+2)
			if _, err := io.ReadFull(r, buf); err != nil {
				return
			}
			f.mu.Lock()
			f.data[fields[1]] = buf[:n]
			f.mu.Unlock()
			w.WriteString("STORED\r\n")
		default:
			w.WriteString("ERROR\r\n")
		}
		if r.Buffered() == 0 { // flush once per pipelined batch
			w.Flush()
		}
	}
}

func (f *fakeServer) get(w *bufio.Writer, keys []string) {
	f.requested.Add(int64(len(keys)))
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range keys {
		if v, ok := f.data[k]; ok {
			w.WriteString("VALUE " + k + " 0 " + strconv.Itoa(len(v)) + "\r\n")
			w.Write(v)
			w.WriteString("\r\n")
		}
	}
	w.WriteString("END\r\n")
}

func testConfig(servers []string) *config {
	cfg := &config{
		servers: servers, conns: 2, keys: 500, getRatio: 0.8,
		multiget: 10, pipeline: 4, seed: 1, timeout: 5 * time.Second,
		ks: newKeyspace("t:", 50),
	}
	cfg.route = buildRoutes(cfg.ks, cfg.keys, len(servers))
	cfg.stride = pickStride(cfg.keys)
	return cfg
}

func TestWorkerDirectFanOut(t *testing.T) {
	fakes := []*fakeServer{startFake(t), startFake(t), startFake(t)}
	var addrs []string
	for _, f := range fakes {
		addrs = append(addrs, f.ln.Addr().String())
	}
	cfg := testConfig(addrs)
	ws, err := dialAll(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := prefillAll(ws, cfg); err != nil {
		t.Fatal(err)
	}
	var st stats
	for _, w := range ws {
		w.run(time.Now().Add(5*time.Second), 400)
		st.add(&w.st)
		w.close()
	}
	if st.ops != 800 || st.errors != 0 || st.keys != st.hits || st.gets == 0 || st.sets == 0 {
		t.Fatalf("stats %+v: want 800 ops, no errors, no misses, both gets and sets", st)
	}
	if st.keys != st.gets*10 {
		t.Fatalf("keys %d for %d 10-key gets", st.keys, st.gets)
	}
	var requested int64
	for i, f := range fakes {
		if f.requested.Load() == 0 {
			t.Errorf("server %d got no gets: keys are not spread", i)
		}
		requested += f.requested.Load()
	}
	if requested != int64(st.keys) {
		t.Errorf("servers saw %d keys requested, client sent %d", requested, st.keys)
	}
}

func TestWorkerDetectsWrongValue(t *testing.T) {
	f := startFake(t)
	cfg := testConfig([]string{f.ln.Addr().String()})
	cfg.getRatio = 1
	ws, err := dialAll(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := prefillAll(ws, cfg); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.data["t:7"] = bytes.Repeat([]byte("z"), 50)
	f.mu.Unlock()
	w := ws[0]
	w.reqs, w.ids, w.vers = append(w.reqs[:0], request{n: 1}), append(w.ids[:0], 7), append(w.vers[:0], anyVersion)
	if err := w.exec(); err != nil || w.st.errors != 1 {
		t.Fatalf("exec err=%v errors=%d; want the wrong value counted", err, w.st.errors)
	}
}

// A set that reaches the wrong server leaves the right one with the old
// version; the owner's next get of that key must flag it.
func TestWorkerDetectsMisroutedSet(t *testing.T) {
	a, b := startFake(t), startFake(t)
	cfg := testConfig([]string{a.ln.Addr().String(), b.ln.Addr().String()})
	cfg.conns = 1 // one worker owns every key
	ws, err := dialAll(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := ws[0]
	if err := prefillAll(ws, cfg); err != nil {
		t.Fatal(err)
	}
	const id = 7
	home := cfg.route[id]
	cfg.route[id] = 1 - home // misroute the set
	w.reqs, w.ids, w.vers = append(w.reqs[:0], request{set: true, n: 1}), append(w.ids[:0], id), append(w.vers[:0], w.bump(id))
	if err := w.exec(); err != nil || w.st.errors != 0 {
		t.Fatalf("set: err=%v errors=%d", err, w.st.errors)
	}
	cfg.route[id] = home
	w.reqs, w.ids, w.vers = append(w.reqs[:0], request{n: 1}), append(w.ids[:0], id), append(w.vers[:0], w.expected(id))
	if err := w.exec(); err != nil || w.st.errors != 1 || !strings.Contains(w.st.firstErr, "version 0") {
		t.Fatalf("get: err=%v errors=%d first=%q; want the stale version flagged", err, w.st.errors, w.st.firstErr)
	}
}

func TestOwnership(t *testing.T) {
	cfg := testConfig([]string{"unused"})
	cfg.keys, cfg.conns = 10, 4
	total := 0
	for i := range cfg.conns {
		w := &worker{cfg: cfg, index: i, own: make([]uint32, ownedKeys(cfg.keys, cfg.conns, i))}
		for id := uint32(0); id < cfg.keys; id++ {
			if int(id)%cfg.conns == i {
				w.own[id/uint32(cfg.conns)] = id // panics if out of range
			}
		}
		total += len(w.own)
	}
	if total != 10 || ownedKeys(3, 4, 3) != 0 || ownedKeys(3, 4, 2) != 1 {
		t.Fatalf("owned keys do not partition the keyspace (total %d)", total)
	}
}

func TestWorkerDoesNotAllocate(t *testing.T) {
	f := startFake(t)
	cfg := testConfig([]string{f.ln.Addr().String(), f.ln.Addr().String()})
	ws, err := dialAll(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := ws[0]
	w.setDeadline(time.Now().Add(10 * time.Second))
	batch := func() {
		w.genBatch(cfg.pipeline)
		if err := w.exec(); err != nil {
			t.Fatal(err)
		}
		w.account()
	}
	for range 100 { // grow the reusable buffers
		batch()
	}
	assertNoWorkerAllocs(t, 200, batch)
}

// assertNoWorkerAllocs runs batch n times and fails if that allocated
// under the worker's methods. The fake server allocates freely in this
// process, so only allocations with a worker method on the stack count.
func assertNoWorkerAllocs(t *testing.T, n int, batch func()) {
	t.Helper()
	defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
	runtime.MemProfileRate = 1
	before := workerAllocs()
	for range n {
		batch()
	}
	if allocs := workerAllocs() - before; allocs != 0 {
		t.Fatalf("%d allocations in %d batches, want 0", allocs, n)
	}
}

// workerAllocs counts the objects allocated so far with a worker method on
// the stack, as far as the memory profile has recorded them.
func workerAllocs() int64 {
	runtime.GC() // the profile is published as of the last GC
	records := make([]runtime.MemProfileRecord, 4096)
	n, ok := runtime.MemProfile(records, true)
	for !ok {
		records = make([]runtime.MemProfileRecord, 2*n)
		n, ok = runtime.MemProfile(records, true)
	}
	var total int64
	for _, r := range records[:n] {
		frames := runtime.CallersFrames(r.Stack())
		for {
			fr, more := frames.Next()
			if strings.Contains(fr.Function, ".(*worker).") {
				total += r.AllocObjects
				break
			}
			if !more {
				break
			}
		}
	}
	return total
}

func TestQuotaOf(t *testing.T) {
	var sum uint64
	for i := range 7 {
		sum += quotaOf(100, 7, i)
	}
	if sum != 100 || quotaOf(3, 7, 5) != 0 || quotaOf(0, 7, 0) == 0 {
		t.Fatal("quotaOf does not split the total exactly")
	}
}

func TestPickStride(t *testing.T) {
	for _, n := range []uint32{1, 2, 3, 10, 100, 1000, 100000, 65536} {
		s := pickStride(n)
		seen := map[uint32]bool{}
		for i := range min(n, 100) {
			k := uint32(uint64(i) * uint64(s) % uint64(n))
			if seen[k] {
				t.Fatalf("n=%d stride=%d repeats key %d", n, s, k)
			}
			seen[k] = true
		}
	}
}
