package main

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

// binRes encodes a response packet, built independently of the request
// encoder under test.
func binRes(op byte, status uint16, opaque uint32, extras, key, value string) string {
	h := make([]byte, binHdrLen)
	h[0], h[1], h[4] = binMagicRes, op, byte(len(extras))
	binary.BigEndian.PutUint16(h[2:], uint16(len(key)))
	binary.BigEndian.PutUint16(h[6:], status)
	binary.BigEndian.PutUint32(h[8:], uint32(len(extras)+len(key)+len(value)))
	binary.BigEndian.PutUint32(h[12:], opaque)
	return string(h) + extras + key + value
}

const flags0 = "\x00\x00\x00\x00"

// binHitRes is a hit for key id at version ver, as memcached sends it.
func binHitRes(ks *keyspace, op byte, id, ver uint32) string {
	return binRes(op, statusOK, id, flags0, string(ks.appendKey(nil, id)), string(ks.appendValue(nil, id, ver)))
}

func unhex(t *testing.T, s string) string {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBinEncode(t *testing.T) {
	ks := newKeyspace("k:", 13)
	// magic op keylen extlen type vbucket bodylen opaque cas, then body.
	getk := unhex(t, "80 0c 0003 00 00 0000 00000003 00000001 0000000000000000") + "k:1"
	if got := string(ks.appendBinGet(nil, []uint32{1}, false)); got != getk {
		t.Errorf("GETK = %x\nwant   %x", got, getk)
	}
	multi := unhex(t, "80 0d 0003 00 00 0000 00000003 00000001 0000000000000000") + "k:1" +
		unhex(t, "80 0d 0004 00 00 0000 00000004 00000016 0000000000000000") + "k:22" +
		unhex(t, "80 0a 0000 00 00 0000 00000000 00000001 0000000000000000")
	if got := string(ks.appendBinGet(nil, []uint32{1, 22}, true)); got != multi {
		t.Errorf("GETKQ+NOOP = %x\nwant         %x", got, multi)
	}
	set := unhex(t, "80 01 0003 08 00 0000 00000018 00000001 0000000000000000 00000000 00000000") +
		"k:1" + "0000000042bcd"
	if got := string(ks.appendBinSet(nil, 1, 42)); got != set {
		t.Errorf("SET = %x\nwant  %x", got, set)
	}
	// Appending keeps what is already in the buffer.
	if got := string(ks.appendBinSet([]byte("xy"), 1, 42)); got != "xy"+set {
		t.Errorf("SET after other bytes = %x", got)
	}
}

func TestReadBinGet(t *testing.T) {
	ks := newKeyspace("k:", 100)
	want := []uint32{1, 2, 3}
	expect := []uint32{anyVersion, 7, anyVersion} // key 2 is "ours", at version 7
	noop := binRes(opNoop, statusOK, 1, "", "", "")
	hit := func(id, ver uint32) string { return binHitRes(ks, opGetKQ, id, ver) }
	for _, tc := range []struct {
		name     string
		reply    string
		hits     int
		err, bad bool // err: an error; bad: a fatal one
	}{
		{"all in order", hit(1, 0) + hit(2, 7) + hit(3, 9) + noop, 3, false, false},
		{"out of order", hit(3, 0) + hit(1, 0) + noop, 2, false, false},
		{"all miss", noop, 0, false, false},
		{"stale", hit(2, 6) + noop, 1, true, false},
		{"unrequested", hit(1, 0) + hit(9, 0) + noop, 1, true, false},
		{"repeated", hit(1, 0) + hit(1, 0) + noop, 1, true, false},
		{"wrong value", binRes(opGetKQ, statusOK, 1, flags0, "k:1", strings.Repeat("x", 100)) + noop, 1, true, false},
		{"wrong opaque", binRes(opGetKQ, statusOK, 5, flags0, "k:1", string(ks.appendValue(nil, 1, 0))) + noop, 1, true, false},
		{"flags", binRes(opGetKQ, statusOK, 1, "\x00\x00\x00\x01", "k:1", string(ks.appendValue(nil, 1, 0))) + noop, 1, true, false},
		{"no extras", binRes(opGetKQ, statusOK, 1, "", "k:1", string(ks.appendValue(nil, 1, 0))) + noop, 1, true, false},
		{"miss answered", binRes(opGetKQ, statusKeyNotFound, 2, "", "k:2", "Not found") + hit(1, 0) + noop, 1, true, false},
		{"server error", binRes(opGetKQ, 0x82, 1, "", "", "Out of memory") + noop, 0, true, false},
		{"noop opaque", binRes(opNoop, statusOK, 9, "", "", ""), 0, true, false},
		{"truncated", hit(1, 0), 1, true, true},
		{"cut in a body", hit(1, 0)[:binHdrLen+10], 0, true, true},
		{"bad magic", "\x80" + noop[1:], 0, true, true},
		{"loud reply", binHitRes(ks, opGetK, 1, 0) + noop, 0, true, true},
		{"ascii", "END\r\n", 0, true, true},
		{"huge body", binRes(opGetKQ, statusOK, 1, flags0, "k:1", strings.Repeat("x", 200)), 0, true, true},
	} {
		r := reader(tc.reply) // 128-byte buffer: the huge body cannot be peeked
		hits, err := readBinGet(r, ks, want, expect, make([]bool, len(want)), true)
		if hits != tc.hits || (err != nil) != tc.err || err != nil && isFatal(err) != tc.bad {
			t.Errorf("%s: hits=%d err=%v; want hits=%d err=%v fatal=%v", tc.name, hits, err, tc.hits, tc.err, tc.bad)
		}
		if !tc.bad && r.Buffered() != 0 {
			t.Errorf("%s: reply not fully consumed", tc.name)
		}
	}
}

func TestReadBinGetK(t *testing.T) {
	ks := newKeyspace("k:", 50)
	for _, tc := range []struct {
		name     string
		reply    string
		hits     int
		err, bad bool
	}{
		{"hit", binHitRes(ks, opGetK, 4, 3), 1, false, false},
		{"miss with key", binRes(opGetK, statusKeyNotFound, 4, "", "k:4", ""), 0, false, false},
		{"miss with message", binRes(opGetK, statusKeyNotFound, 4, "", "", "Not found"), 0, false, false},
		{"miss opaque", binRes(opGetK, statusKeyNotFound, 8, "", "", "Not found"), 0, true, false},
		{"stale", binHitRes(ks, opGetK, 4, 2), 1, true, false},
		{"other key", binHitRes(ks, opGetK, 5, 3), 0, true, false},
		{"error", binRes(opGetK, 0x86, 4, "", "", "Temporary failure"), 0, true, false},
		{"quiet reply", binHitRes(ks, opGetKQ, 4, 3), 0, true, true},
	} {
		r := reader(tc.reply + "rest")
		hits, err := readBinGet(r, ks, []uint32{4}, []uint32{3}, make([]bool, 1), false)
		if hits != tc.hits || (err != nil) != tc.err || err != nil && isFatal(err) != tc.bad {
			t.Errorf("%s: hits=%d err=%v; want hits=%d err=%v fatal=%v", tc.name, hits, err, tc.hits, tc.err, tc.bad)
		}
		// One reply per GETK: what follows belongs to the next request.
		if rest, _ := r.Peek(r.Buffered()); !tc.bad && string(rest) != "rest" {
			t.Errorf("%s: left %q unread, want the next reply", tc.name, rest)
		}
	}
}

func TestReadBinStored(t *testing.T) {
	for name, tc := range map[string]struct {
		reply, want string
	}{
		"stored":     {binRes(opSet, statusOK, 7, "", "", ""), "ok"},
		"not stored": {binRes(opSet, 0x05, 7, "", "", "Not stored."), "soft"},
		"too big":    {binRes(opSet, 0x03, 7, "", "", "Too large."), "soft"},
		"opaque":     {binRes(opSet, statusOK, 6, "", "", ""), "soft"},
		"opcode":     {binRes(opGetK, statusOK, 7, "", "", ""), "fatal"},
		"truncated":  {binRes(opSet, statusOK, 7, "", "", "")[:20], "fatal"},
		"ascii":      {"STORED\r\n", "fatal"},
	} {
		r := reader(tc.reply)
		err := readBinStored(r, 7)
		got := "ok"
		if err != nil {
			got = map[bool]string{true: "fatal", false: "soft"}[isFatal(err)]
		}
		if got != tc.want {
			t.Errorf("%s: %v (%s), want %s", name, err, got, tc.want)
		}
		if got != "fatal" && r.Buffered() != 0 {
			t.Errorf("%s: reply not fully consumed", name)
		}
	}
}

// The encoder's packets must parse as the requests they claim to be.
func TestBinEncodeRoundTrip(t *testing.T) {
	ks := newKeyspace("key:", 100)
	b := ks.appendBinSet(nil, 123456, 9)
	b = ks.appendBinGet(b, []uint32{5, 6, 7}, true)
	var ops []byte
	for len(b) > 0 {
		if len(b) < binHdrLen || b[0] != binMagicReq {
			t.Fatalf("bad header at %x", b)
		}
		keyLen, extLen := int(binary.BigEndian.Uint16(b[2:])), int(b[4])
		n := binHdrLen + int(binary.BigEndian.Uint32(b[8:]))
		key := b[binHdrLen+extLen : binHdrLen+extLen+keyLen]
		if id, ok := ks.keyID(key); b[1] != opNoop && (!ok || id != binary.BigEndian.Uint32(b[12:])) {
			t.Errorf("op 0x%02x: key %q, opaque %d", b[1], key, binary.BigEndian.Uint32(b[12:]))
		}
		if b[1] == opSet {
			if _, ok := ks.checkValue(b[binHdrLen+extLen+keyLen:n], 123456); !ok {
				t.Errorf("set value %q", b[binHdrLen+extLen+keyLen:n])
			}
		}
		ops = append(ops, b[1])
		b = b[n:]
	}
	if string(ops) != string([]byte{opSet, opGetKQ, opGetKQ, opGetKQ, opNoop}) {
		t.Fatalf("opcodes %x", ops)
	}
}
