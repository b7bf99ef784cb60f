package memserver

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/moxifleet/moxi/internal/binproto"
)

// binClosingChunks end with memcached closing the connection; the test
// dials again after each.
func binClosingChunks(b *pktBuilder) []binChunk {
	hit := func() []byte { return b.key(binproto.OpGet, "a") }
	badMagic := []byte(strings.Repeat("\x81", binproto.HeaderLen))
	shortBody := b.key(binproto.OpGet, "abc")
	binary.BigEndian.PutUint32(shortBody[8:], 1) // extras+key exceed the body
	return []binChunk{
		{name: "seed", pkts: [][]byte{b.set(binproto.OpSet, "a", 0, 0, "v")}},
		{name: "get with extras", pkts: [][]byte{hit(), b.req(binproto.OpGet, 0, u32(0), "a", nil)}},
		{name: "set without extras", pkts: [][]byte{b.req(binproto.OpSet, 0, nil, "a", []byte("v"))}},
		{name: "setq without extras", pkts: [][]byte{b.req(binproto.OpSetQ, 0, nil, "a", []byte("v"))}},
		{name: "getq with extras", pkts: [][]byte{b.req(binproto.OpGetQ, 0, u32(0), "a", nil)}},
		{name: "delete with extras", pkts: [][]byte{b.req(binproto.OpDelete, 0, u32(0), "a", nil)}},
		{name: "noop with a value", pkts: [][]byte{b.req(binproto.OpNoop, 0, nil, "", []byte("x"))}},
		{name: "flush with 8 bytes of extras", pkts: [][]byte{b.req(binproto.OpFlush, 0, make([]byte, 8), "", nil)}},
		{name: "key over 250", pkts: [][]byte{b.key(binproto.OpGet, strings.Repeat("k", 251))}},
		{name: "extras and key longer than the body", pkts: [][]byte{shortBody}},
		{name: "bad magic", pkts: [][]byte{b.bare(binproto.OpVersion), badMagic}},
		{name: "bad magic drops queued replies", pkts: [][]byte{hit(), b.set(binproto.OpSetQ, "a", 0, 0, "v"), badMagic}},
		{name: "noop writes the queue", pkts: [][]byte{hit(), b.bare(binproto.OpNoop), badMagic}},
		{name: "a miss writes the queue", pkts: [][]byte{hit(), b.key(binproto.OpGet, "zz"), badMagic}},
		{name: "a K miss does not", pkts: [][]byte{hit(), b.key(binproto.OpGetK, "zz"), badMagic}},
		{name: "text after binary", pkts: [][]byte{hit(), []byte("get a\r\n" + strings.Repeat(" ", 20))}},
		{name: "quit", pkts: [][]byte{hit(), b.bare(binproto.OpQuit), hit()}},
		{name: "quitq", pkts: [][]byte{hit(), b.bare(binproto.OpQuitQ), hit()}},
	}
}

// binPipelineChunk is a long batch of quiet commands ended by a NOOP.
func binPipelineChunk(b *pktBuilder) binChunk {
	var pkts [][]byte
	for range 200 {
		pkts = append(pkts, b.set(binproto.OpSetQ, "p", 0, 0, "1"), b.arith(binproto.OpIncrementQ, "p", 1, 0, 0),
			b.key(binproto.OpGetKQ, "p"), b.key(binproto.OpGetQ, "zz"))
	}
	return binChunk{name: "pipeline", pkts: append(pkts, b.bare(binproto.OpNoop))}
}

// TestBinaryDifferential sends the same binary packets to memcached and
// to memserver and requires the same replies, byte for byte except CAS
// values (numbered by first appearance on each side) and the keyed
// packets of stats groups, whose names memserver's must be a subset of.
func TestBinaryDifferential(t *testing.T) {
	mc := newBinSide(t, startMemcached(t))
	msAddr, _ := startMemserver(t, Config{})
	ms := newBinSide(t, msAddr)
	var b pktBuilder
	chunks := slices.Concat(binStorageChunks(&b), binDeleteTouchChunks(&b), binCounterChunks(&b),
		binStatChunks(&b), binRefusalChunks(&b), binLargeChunks(&b), binClosingChunks(&b),
		[]binChunk{binPipelineChunk(&b)})
	for i := range chunks {
		ch := &chunks[i]
		want, wantStats, err := mc.exchange(ch)
		if err != nil {
			t.Fatalf("%s: memcached: %v", ch.name, err)
		}
		got, gotStats, err := ms.exchange(ch)
		if err != nil {
			t.Fatalf("%s: memserver: %v", ch.name, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s:\nmemserver:\n  %s\nmemcached:\n  %s", ch.name, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
		for _, name := range gotStats {
			if !slices.Contains(wantStats, name) {
				t.Errorf("%s: memserver sent stat %q, memcached did not", ch.name, name)
			}
		}
		if len(want) > 0 && want[len(want)-1] == "<CLOSED>" {
			mc.redial()
			ms.redial()
		}
	}
}
