package binproto

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// unhex decodes hex written with spaces between fields.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestHeaderDecodeAppendRoundTrip(t *testing.T) {
	raw := unhex(t, "80 1d 0102 04 05 0607 08090a0b 0c0d0e0f 1011121314151617")
	var h Header
	h.Decode(raw)
	want := Header{Magic: 0x80, Opcode: OpGat, KeyLen: 0x0102, ExtLen: 4, DataType: 5,
		VBucket: 0x0607, BodyLen: 0x08090a0b, Opaque: 0x0c0d0e0f, CAS: 0x1011121314151617}
	if h != want {
		t.Fatalf("Decode = %+v, want %+v", h, want)
	}
	if got := h.AppendTo(nil); !bytes.Equal(got, raw) {
		t.Fatalf("AppendTo = %x, want %x", got, raw)
	}
	prefix := []byte("abc")
	if got := h.AppendTo(prefix); !bytes.Equal(got, append([]byte("abc"), raw...)) {
		t.Fatalf("AppendTo after a prefix = %x", got)
	}
	resp := unhex(t, "81 00 0000 00 00 0081 00000000 00000000 0000000000000000")
	h.Decode(resp)
	if h.Status() != StatusUnknownCommand || h.Magic != MagicResponse {
		t.Fatalf("response header decoded as %+v, status %#x", h, h.Status())
	}
}

func TestAppendPacketsBytes(t *testing.T) {
	cases := []struct {
		name string
		got  []byte
		want string
	}{
		{"getk request",
			AppendRequest(nil, OpGetK, 0x0102, 0xdeadbeef, 0, nil, []byte("foo"), nil),
			"80 0c 0003 00 00 0102 00000003 deadbeef 0000000000000000 666f6f"},
		{"set request with extras, value and cas",
			AppendRequest(nil, OpSet, 7, 1, 0x0102030405060708,
				unhex(t, "cafe0001 00000e10"), []byte("k"), []byte("v")),
			"80 01 0001 08 00 0007 0000000a 00000001 0102030405060708 cafe0001 00000e10 6b 76"},
		{"noop request",
			AppendRequest(nil, OpNoop, 0, 0x11223344, 0, nil, nil, nil),
			"80 0a 0000 00 00 0000 00000000 11223344 0000000000000000"},
		{"incr request",
			AppendRequest(nil, OpIncrementQ, 0, 2, 0,
				unhex(t, "0000000000000001 0000000000000000 ffffffff"), []byte("n"), nil),
			"80 15 0001 14 00 0000 00000015 00000002 0000000000000000 " +
				"0000000000000001 0000000000000000 ffffffff 6e"},
		{"getk hit response",
			AppendResponse(nil, OpGetK, StatusOK, 9, 0x1122334455667788,
				unhex(t, "00000005"), []byte("ab"), []byte("xyz")),
			"81 0c 0002 04 00 0000 00000009 00000009 1122334455667788 00000005 6162 78797a"},
		{"incr response",
			AppendResponse(nil, OpIncrement, StatusOK, 3, 12, nil, nil, unhex(t, "000000000000002a")),
			"81 05 0000 00 00 0000 00000008 00000003 000000000000000c 000000000000002a"},
		{"get miss error",
			AppendError(nil, OpGet, StatusKeyNotFound, 0x01020304, StatusKeyNotFound.Message()),
			"81 00 0000 00 00 0001 00000009 01020304 0000000000000000 4e6f7420666f756e64"},
		{"unknown command error on a quiet opcode",
			AppendError(nil, OpGetQ, StatusUnknownCommand, 0xffffffff, "Unknown command"),
			"81 09 0000 00 00 0081 0000000f ffffffff 0000000000000000 556e6b6e6f776e20636f6d6d616e64"},
		{"error appended after earlier bytes",
			AppendError([]byte{0xaa}, OpSet, StatusTooBig, 0, "Too large."),
			"aa 81 01 0000 00 00 0003 0000000a 00000000 0000000000000000 546f6f206c617267652e"},
	}
	for _, c := range cases {
		if want := unhex(t, c.want); !bytes.Equal(c.got, want) {
			t.Errorf("%s:\n got %x\nwant %x", c.name, c.got, want)
		}
	}
}

func TestAppendRequestDecodesBack(t *testing.T) {
	pkt := AppendRequest(make([]byte, 0, 64), OpSetQ, 0x0203, 0x04050607, 8,
		unhex(t, "00000001 00000002"), []byte("key"), []byte("value"))
	var p Packet
	p.Decode(pkt)
	p.split(pkt[HeaderLen:])
	if p.Opcode != OpSetQ || p.VBucket != 0x0203 || p.Opaque != 0x04050607 || p.CAS != 8 ||
		p.BodyLen != 16 || string(p.Key) != "key" || string(p.Value) != "value" ||
		!bytes.Equal(p.Extras, unhex(t, "00000001 00000002")) {
		t.Fatalf("decoded %+v", p)
	}
	// split caps the slices: appending to one must not overwrite the next.
	_ = append(p.Extras, 'X')
	_ = append(p.Key, 'X')
	if string(p.Key) != "key" || string(p.Value) != "value" {
		t.Fatalf("append through a split slice clobbered the packet: key %q value %q", p.Key, p.Value)
	}
}

func TestSetVBucketAndOpaque(t *testing.T) {
	pkt := AppendRequest(nil, OpGet, 1, 2, 3, nil, []byte("k"), nil)
	orig := bytes.Clone(pkt)
	SetVBucket(pkt, 0xbeef)
	SetOpaque(pkt, 0xcafebabe)
	want := unhex(t, "80 00 0001 00 00 beef 00000001 cafebabe 0000000000000003 6b")
	if !bytes.Equal(pkt, want) {
		t.Fatalf("patched = %x, want %x (was %x)", pkt, want, orig)
	}
	resp := AppendResponse(nil, OpGetK, StatusOK, 1, 0, nil, nil, nil)
	SetOpaque(resp, 0x01020304)
	var h Header
	h.Decode(resp)
	if h.Opaque != 0x01020304 || h.Status() != StatusOK || h.Opcode != OpGetK {
		t.Fatalf("SetOpaque on a response: %+v", h)
	}
}

// quietPairsWant is every loud command with its quiet twin, from
// memcached's protocol_binary.h.
func quietPairsWant() [][2]Opcode {
	return [][2]Opcode{
		{OpGet, OpGetQ}, {OpGetK, OpGetKQ}, {OpSet, OpSetQ}, {OpAdd, OpAddQ},
		{OpReplace, OpReplaceQ}, {OpDelete, OpDeleteQ}, {OpIncrement, OpIncrementQ},
		{OpDecrement, OpDecrementQ}, {OpQuit, OpQuitQ}, {OpFlush, OpFlushQ},
		{OpAppend, OpAppendQ}, {OpPrepend, OpPrependQ}, {OpGat, OpGatQ}, {OpGatK, OpGatKQ},
	}
}

func TestQuietLoudEveryOpcode(t *testing.T) {
	loudOfWant := map[Opcode]Opcode{}
	quietOfWant := map[Opcode]Opcode{}
	for _, p := range quietPairsWant() {
		quietOfWant[p[0]], loudOfWant[p[1]] = p[1], p[0]
	}
	for i := 0; i < 256; i++ {
		op := Opcode(i)
		loud, isQuiet := loudOfWant[op]
		if !isQuiet {
			loud = op
		}
		quiet, hasQuiet := quietOfWant[op]
		if !hasQuiet {
			quiet = op
		}
		if op.IsQuiet() != isQuiet {
			t.Errorf("%#02x.IsQuiet() = %v, want %v", i, op.IsQuiet(), isQuiet)
		}
		if op.Loud() != loud {
			t.Errorf("%#02x.Loud() = %#02x, want %#02x", i, op.Loud(), loud)
		}
		if op.Quiet() != quiet {
			t.Errorf("%#02x.Quiet() = %#02x, want %#02x", i, op.Quiet(), quiet)
		}
		if op.Quiet().Loud() != op.Loud() {
			t.Errorf("%#02x: Quiet then Loud = %#02x, want %#02x", i, op.Quiet().Loud(), op.Loud())
		}
	}
}

func TestIsGetReturnsKey(t *testing.T) {
	gets := map[Opcode]bool{OpGet: false, OpGetQ: false, OpGetK: true, OpGetKQ: true,
		OpGat: false, OpGatQ: false, OpGatK: true, OpGatKQ: true}
	for i := 0; i < 256; i++ {
		op := Opcode(i)
		returnsKey, isGet := gets[op]
		if op.IsGet() != isGet {
			t.Errorf("%#02x.IsGet() = %v, want %v", i, op.IsGet(), isGet)
		}
		if op.ReturnsKey() != returnsKey {
			t.Errorf("%#02x.ReturnsKey() = %v, want %v", i, op.ReturnsKey(), returnsKey)
		}
	}
}

func TestKnown(t *testing.T) {
	// From a scan of all 256 opcodes against memcached 1.6.18 (without
	// -S): these get an answer other than "Unknown command" when
	// well-formed.
	known := map[Opcode]bool{}
	for _, op := range []Opcode{OpGet, OpSet, OpAdd, OpReplace, OpDelete, OpIncrement,
		OpDecrement, OpQuit, OpFlush, OpNoop, OpVersion, OpAppend, OpPrepend, OpStat,
		OpTouch, OpGat, OpGatK} {
		known[op], known[op.Quiet()] = true, true
	}
	known[OpGetK], known[OpGetKQ] = true, true
	for i := 0; i < 256; i++ {
		if Known(Opcode(i)) != known[Opcode(i)] {
			t.Errorf("Known(%#02x) = %v, want %v", i, Known(Opcode(i)), known[Opcode(i)])
		}
	}
}

func TestStatusMessages(t *testing.T) {
	// write_bin_error's texts; TestMessagesMatchMemcached checks them
	// against a running memcached.
	want := map[Status]string{
		StatusKeyNotFound: "Not found", StatusKeyExists: "Data exists for key.",
		StatusTooBig: "Too large.", StatusInvalid: "Invalid arguments",
		StatusNotStored: "Not stored.", StatusDeltaBadValue: "Non-numeric server-side value for incr or decr",
		StatusAuthError: "Auth failure.", StatusUnknownCommand: "Unknown command",
		StatusNoMemory: "Out of memory", StatusBusy: "UNHANDLED ERROR",
	}
	for s, m := range want {
		if s.Message() != m {
			t.Errorf("%#04x.Message() = %q, want %q", uint16(s), s.Message(), m)
		}
	}
	if StatusBusy.ProxyMessage() != "System is busy" || StatusInternal.ProxyMessage() != "Internal error" {
		t.Errorf("ProxyMessage texts changed")
	}
}
