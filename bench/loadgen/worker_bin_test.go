package main

import (
	"bufio"
	"encoding/binary"
	"io"
	"testing"
	"time"
)

// serveBinary is the fake server's binary protocol, answering as memcached
// does: GETK always (a miss as KeyNotFound with the key), GETKQ only on a
// hit, SET and NOOP with an empty OK, anything else "unknown command".
// Every reply echoes the request's opaque.
func (f *fakeServer) serveBinary(r *bufio.Reader, w *bufio.Writer) {
	var hdr [binHdrLen]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil || hdr[0] != binMagicReq {
			return
		}
		op, extLen := hdr[1], int(hdr[4])
		keyLen := int(binary.BigEndian.Uint16(hdr[2:]))
		opaque := binary.BigEndian.Uint32(hdr[12:])
		body := make([]byte, binary.BigEndian.Uint32(hdr[8:]))
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		f.binary.Add(1)
		key := string(body[extLen : extLen+keyLen])
		switch op {
		case opGetK, opGetKQ:
			f.requested.Add(1)
			f.mu.Lock()
			v, ok := f.data[key]
			f.mu.Unlock()
			switch {
			case ok:
				w.WriteString(binRes(op, statusOK, opaque, flags0, key, string(v)))
			case op == opGetK:
				w.WriteString(binRes(op, statusKeyNotFound, opaque, "", key, ""))
			}
		case opSet:
			f.mu.Lock()
			f.data[key] = body[extLen+keyLen:]
			f.mu.Unlock()
			w.WriteString(binRes(op, statusOK, opaque, "", "", ""))
		case opNoop:
			w.WriteString(binRes(op, statusOK, opaque, "", "", ""))
		default:
			w.WriteString(binRes(op, 0x81, opaque, "", "", "Unknown command"))
		}
		if r.Buffered() == 0 {
			w.Flush()
		}
	}
}

// Binary clients through client-side fan-out: multi-gets as GETKQ+NOOP
// (which a server's part may reduce to one key) and single GETKs, both
// pipelined, must see every prefilled key and verify every value.
func TestWorkerBinaryFanOut(t *testing.T) {
	for _, multiget := range []int{1, 10} {
		fakes := []*fakeServer{startFake(t), startFake(t), startFake(t)}
		var addrs []string
		for _, f := range fakes {
			addrs = append(addrs, f.ln.Addr().String())
		}
		cfg := testConfig(addrs)
		cfg.binary, cfg.multiget = true, multiget
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
		if st.ops != 800 || st.errors != 0 || st.keys != st.hits || st.gets == 0 || st.sets == 0 || st.owned == 0 {
			t.Fatalf("multiget %d: stats %+v: want 800 ops, no errors, no misses, gets, sets and owned reads", multiget, st)
		}
		var requested, binReqs int64
		for i, f := range fakes {
			if f.requested.Load() == 0 {
				t.Errorf("multiget %d: server %d got no gets", multiget, i)
			}
			requested += f.requested.Load()
			binReqs += f.binary.Load()
		}
		if requested != int64(st.keys) {
			t.Errorf("multiget %d: servers saw %d keys requested, client sent %d", multiget, requested, st.keys)
		}
		// Prefill sets, measured sets, one packet per key of a get, and a
		// NOOP per server part of a multi-get: at least one per request.
		if least := int64(cfg.keys) + int64(st.sets) + requested; binReqs < least {
			t.Errorf("multiget %d: %d binary requests, want >= %d", multiget, binReqs, least)
		}
	}
}

func TestWorkerBinaryDetectsMisses(t *testing.T) {
	for _, multiget := range []int{1, 10} {
		f := startFake(t)
		cfg := testConfig([]string{f.ln.Addr().String()})
		cfg.binary, cfg.multiget, cfg.getRatio = true, multiget, 1
		ws, err := dialAll(cfg)
		if err != nil {
			t.Fatal(err)
		}
		w := ws[0] // nothing prefilled: every key misses
		w.setDeadline(time.Now().Add(5 * time.Second))
		w.genBatch(3)
		if err := w.exec(); err != nil {
			t.Fatal(err)
		}
		w.account()
		if w.st.errors != 0 || w.st.hits != 0 || w.st.keys != uint64(3*multiget) {
			t.Fatalf("multiget %d: stats %+v: want %d keys, all missed, no errors", multiget, w.st, 3*multiget)
		}
	}
}

func TestWorkerBinaryDoesNotAllocate(t *testing.T) {
	f := startFake(t)
	cfg := testConfig([]string{f.ln.Addr().String(), f.ln.Addr().String()})
	cfg.binary = true
	ws, err := dialAll(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := ws[0]
	w.setDeadline(time.Now().Add(10 * time.Second))
	if err := prefillAll(ws[:1], cfg); err != nil {
		t.Fatal(err)
	}
	batch := func() {
		w.genBatch(cfg.pipeline)
		if err := w.exec(); err != nil {
			t.Fatal(err)
		}
		w.account()
	}
	for range 100 {
		batch()
	}
	if w.st.hits == 0 || w.st.errors != 0 {
		t.Fatalf("stats %+v: want hits and no errors", w.st)
	}
	assertNoWorkerAllocs(t, 200, batch)
}
