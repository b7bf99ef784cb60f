package memserver

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/ascii"
)

// TestMoveItemsKeepsFlagsExpiryAndCas moves part of one server's items to
// another, as a rebalance moves a vbucket: the moved items leave the
// source, arrive with their flags, expiry and CAS, and a cas command with
// the CAS read before the move still succeeds on the new owner.
func TestMoveItemsKeepsFlagsExpiryAndCas(t *testing.T) {
	src, clock := newTestServer(Config{})
	dst, _ := newTestServer(Config{})
	for i := range 4 {
		run(src, rqStore(ascii.OpSet, fmt.Sprintf("m%d", i), uint32(i+1), 100, "val", false))
		run(src, rqStore(ascii.OpSet, fmt.Sprintf("s%d", i), 0, 0, "stay", false))
	}
	run(src, rqStore(ascii.OpSet, "mgone", 0, 1, "expired", false))
	clock.advance(2 * time.Second)
	before := src.CopyItems(func(k []byte) bool { return bytes.Equal(k, []byte("m2")) })
	if len(before) != 1 {
		t.Fatalf("copy m2: %d items", len(before))
	}

	moved := src.TakeItems(func(k []byte) bool { return k[0] == 'm' })
	if len(moved) != 4 {
		t.Fatalf("took %d items, want 4 (the expired one is dropped)", len(moved))
	}
	if n := dst.PutItems(moved, false); n != 4 {
		t.Fatalf("put %d items, want 4", n)
	}
	if got := src.Stats().CurrItems; got != 4 {
		t.Fatalf("source keeps %d items, want the 4 s-keys", got)
	}
	wantExp := clock.t.Add(-2*time.Second).Unix() + 100
	for _, it := range dst.CopyItems(func([]byte) bool { return true }) {
		var i int
		if _, err := fmt.Sscanf(string(it.Key), "m%d", &i); err != nil || it.Flags != uint32(i+1) ||
			it.Exptime != wantExp || string(it.Value) != "val" {
			t.Errorf("moved item %q: flags %d exptime %d value %q", it.Key, it.Flags, it.Exptime, it.Value)
		}
	}
	if got := run(dst, rqCas("m2", "x", before[0].CAS)); got != "STORED\r\n" {
		t.Fatalf("cas with the pre-move CAS: %q", got)
	}
	if after := dst.CopyItems(func(k []byte) bool { return string(k) == "m2" }); after[0].CAS <= before[0].CAS {
		t.Fatalf("CAS after the move %d, want above the imported %d", after[0].CAS, before[0].CAS)
	}
}

// TestPutItemsReplace checks that a sweep without replace keeps newer
// data and that expired items are not imported.
func TestPutItemsReplace(t *testing.T) {
	s, clock := newTestServer(Config{})
	run(s, rqStore(ascii.OpSet, "k", 0, 0, "new", false))
	old := []Item{{Key: []byte("k"), Value: []byte("old"), CAS: 1},
		{Key: []byte("dead"), Value: []byte("x"), Exptime: clock.t.Unix() - 1}}
	if n := s.PutItems(old, false); n != 0 {
		t.Fatalf("stored %d, want 0", n)
	}
	if got := run(s, rqGet(ascii.OpGet, 0, "k", "dead")); got != "VALUE k 0 3\r\nnew\r\nEND\r\n" {
		t.Fatalf("after put without replace: %q", got)
	}
	if n := s.PutItems(old[:1], true); n != 1 {
		t.Fatalf("replace stored %d, want 1", n)
	}
	if got := run(s, rqGet(ascii.OpGet, 0, "k")); got != "VALUE k 0 3\r\nold\r\nEND\r\n" {
		t.Fatalf("after replace: %q", got)
	}
}
