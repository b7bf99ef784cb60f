package binproto

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// pkt builds a well-formed request with opaque 0x01020304.
func pkt(op Opcode, ext, key, val string) []byte {
	return AppendRequest(nil, op, 0, 0x01020304, 0, []byte(ext), []byte(key), []byte(val))
}

// rawReq builds a request header with arbitrary lengths, followed by body.
func rawReq(op Opcode, keyLen uint16, extLen uint8, bodyLen uint32, body string) []byte {
	h := Header{Magic: MagicRequest, Opcode: op, KeyLen: keyLen, ExtLen: extLen,
		BodyLen: bodyLen, Opaque: 0x01020304}
	return append(h.AppendTo(nil), body...)
}

// marker is the NOOP that follows each case, to see where the reader is.
func marker() []byte { return AppendRequest(nil, OpNoop, 0, 0xeeeeeeee, 0, nil, nil, nil) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func newReader(b []byte, maxItem int) *Reader {
	return NewReader(bufio.NewReader(bytes.NewReader(b)), maxItem)
}

func TestReaderGoodRequests(t *testing.T) {
	e4, e8, e20 := "\x00\x00\x0e\x10", "\xca\xfe\x00\x01\x00\x00\x00\x00", strings.Repeat("\x01", 20)
	cases := []struct {
		name            string
		op              Opcode
		ext, key, value string
	}{
		{"get", OpGet, "", "foo", ""}, {"getq", OpGetQ, "", "foo", ""},
		{"getk", OpGetK, "", "foo", ""}, {"getkq", OpGetKQ, "", "foo", ""},
		{"get 250-byte key", OpGet, "", strings.Repeat("k", MaxKeyLen), ""},
		{"set", OpSet, e8, "k", "value"}, {"setq", OpSetQ, e8, "k", "value"},
		{"set empty value", OpSet, e8, "k", ""},
		{"add", OpAdd, e8, "k", "v"}, {"addq", OpAddQ, e8, "k", "v"},
		{"replace", OpReplace, e8, "k", "v"}, {"replaceq", OpReplaceQ, e8, "k", "v"},
		{"append", OpAppend, "", "k", "tail"}, {"appendq", OpAppendQ, "", "k", "tail"},
		{"prepend", OpPrepend, "", "k", "head"}, {"prependq", OpPrependQ, "", "k", "head"},
		{"append empty value", OpAppend, "", "k", ""},
		{"delete", OpDelete, "", "k", ""}, {"deleteq", OpDeleteQ, "", "k", ""},
		{"incr", OpIncrement, e20, "n", ""}, {"incrq", OpIncrementQ, e20, "n", ""},
		{"decr", OpDecrement, e20, "n", ""}, {"decrq", OpDecrementQ, e20, "n", ""},
		{"quit", OpQuit, "", "", ""}, {"quitq", OpQuitQ, "", "", ""},
		{"flush", OpFlush, "", "", ""}, {"flush with delay", OpFlush, e4, "", ""},
		{"flushq", OpFlushQ, e4, "", ""},
		{"noop", OpNoop, "", "", ""}, {"version", OpVersion, "", "", ""},
		{"stat", OpStat, "", "", ""}, {"stat settings", OpStat, "", "settings", ""},
		{"touch", OpTouch, e4, "k", ""}, {"gat", OpGat, e4, "k", ""},
		{"gatq", OpGatQ, e4, "k", ""}, {"gatk", OpGatK, e4, "k", ""},
		{"gatkq", OpGatKQ, e4, "k", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := pkt(c.op, c.ext, c.key, c.value)
			r := newReader(cat(in, marker()), 0)
			var p Packet
			buf, err := r.Next(&p, make([]byte, 3, 8))
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if !bytes.Equal(buf, in) {
				t.Fatalf("buffer = %x, want the raw packet %x", buf, in)
			}
			if p.Opcode != c.op || p.Opaque != 0x01020304 || int(p.BodyLen) != len(in)-HeaderLen ||
				string(p.Extras) != c.ext || string(p.Key) != c.key || string(p.Value) != c.value {
				t.Fatalf("packet = %+v", p)
			}
			checkInside(t, &p, buf)
			buf, err = r.Next(&p, buf)
			if err != nil || p.Opcode != OpNoop || p.Opaque != 0xeeeeeeee || len(buf) != HeaderLen {
				t.Fatalf("after it: %+v, %v", p.Header, err)
			}
			if _, err := r.Next(&p, buf); err != io.EOF {
				t.Fatalf("at the end: %v, want io.EOF", err)
			}
		})
	}
}

// checkInside asserts that p's slices lie where the header says inside
// buf.
func checkInside(t *testing.T, p *Packet, buf []byte) {
	t.Helper()
	e, k := HeaderLen+int(p.ExtLen), HeaderLen+int(p.ExtLen)+int(p.KeyLen)
	for _, s := range []struct {
		name  string
		got   []byte
		start int
		end   int
	}{{"extras", p.Extras, HeaderLen, e}, {"key", p.Key, e, k}, {"value", p.Value, k, len(buf)}} {
		if len(s.got) != s.end-s.start {
			t.Fatalf("%s has %d bytes, want %d", s.name, len(s.got), s.end-s.start)
		}
		if len(s.got) > 0 && &s.got[0] != &buf[s.start] {
			t.Fatalf("%s does not point into the returned buffer at %d", s.name, s.start)
		}
	}
}

// refusal is one malformed input: the error Next must return, and, when
// memcached keeps the connection, the marker NOOP must be the next
// request read.
type refusal struct {
	name    string
	in      []byte
	maxItem int
	want    Error
}

func refusals() []refusal {
	e4, e8, e20 := "\x00\x00\x00\x00", "\x00\x00\x00\x00\x00\x00\x00\x00", strings.Repeat("\x00", 20)
	flags8 := "\x00\x00\x00\x01\x00\x00\x00\x00"
	k251 := strings.Repeat("k", 251)
	inval := Error{Status: StatusInvalid, Close: true}
	unknown := Error{Status: StatusUnknownCommand}
	tooBig := Error{Status: StatusTooBig}
	noReply := Error{Close: true, NoReply: true}
	// With -I 1024 a set of key "k" takes at most 1024-60 value bytes,
	// 4 fewer when its flags are not zero.
	const small, fits = 1024, 1024 - 60
	return []refusal{
		{"bad magic", append([]byte{0x81}, pkt(OpGet, "", "k", "")[1:]...), 0, noReply},
		{"zero magic", make([]byte, HeaderLen), 0, noReply},
		{"key 251", pkt(OpGet, "", k251, ""), 0, inval},
		{"key 251 on an unknown opcode", pkt(0x30, "", k251, ""), 0, inval},
		{"key 251 on a set", pkt(OpSet, e8, k251, "v"), 0, inval},
		{"key longer than body", rawReq(OpGet, 3, 0, 2, "abc"), 0, Error{Status: StatusUnknownCommand, Close: true}},
		{"extras longer than body", rawReq(OpSet, 1, 8, 4, "\x00\x00\x00\x00kkkkk"), 0, Error{Status: StatusUnknownCommand, Close: true}},
		{"key 251 longer than body", rawReq(OpGet, 251, 0, 2, k251), 0, Error{Status: StatusUnknownCommand, Close: true}},
		{"extras and key beyond memcached's read buffer", cat(rawReq(OpGet, 16361, 0, 16361, ""), make([]byte, 16361)), 0, noReply},
		{"extras 255 and key 16106", cat(rawReq(0x30, 16106, 255, 16361, ""), make([]byte, 16361)), 0, noReply},

		{"get with extras", pkt(OpGet, e4, "k", ""), 0, inval},
		{"get without key", pkt(OpGet, "", "", ""), 0, inval},
		{"get with value", pkt(OpGet, "", "k", "v"), 0, inval},
		{"getq with value", pkt(OpGetQ, "", "k", "v"), 0, inval},
		{"getk without key", pkt(OpGetK, "", "", ""), 0, inval},
		{"getkq with extras", pkt(OpGetKQ, e4, "k", ""), 0, inval},
		{"set without extras", pkt(OpSet, "", "k", "v"), 0, inval},
		{"set without key", pkt(OpSet, e8, "", "v"), 0, inval},
		{"set with 4 extras", pkt(OpSet, e4, "k", "v"), 0, inval},
		{"addq without key", pkt(OpAddQ, e8, "", ""), 0, inval},
		{"replace with 20 extras", pkt(OpReplace, e20, "k", ""), 0, inval},
		{"append with extras", pkt(OpAppend, e8, "k", "v"), 0, inval},
		{"append without key", pkt(OpAppend, "", "", "v"), 0, inval},
		{"prependq with extras", pkt(OpPrependQ, e4, "k", ""), 0, inval},
		{"delete with value", pkt(OpDelete, "", "k", "v"), 0, inval},
		{"delete with extras", pkt(OpDelete, e4, "k", ""), 0, inval},
		{"deleteq without key", pkt(OpDeleteQ, "", "", ""), 0, inval},
		{"incr with 8 extras", pkt(OpIncrement, e8, "k", ""), 0, inval},
		{"incr with value", pkt(OpIncrement, e20, "k", "1"), 0, inval},
		{"decr without key", pkt(OpDecrement, e20, "", ""), 0, inval},
		{"incrq without extras", pkt(OpIncrementQ, "", "k", ""), 0, inval},
		{"flush with 8 extras", pkt(OpFlush, e8, "", ""), 0, inval},
		{"flush with key", pkt(OpFlush, "", "k", ""), 0, inval},
		{"flush with value", pkt(OpFlush, "", "", "v"), 0, inval},
		{"flushq with extras and value", pkt(OpFlushQ, e4, "", "v"), 0, inval},
		{"noop with value", pkt(OpNoop, "", "", "v"), 0, inval},
		{"version with key", pkt(OpVersion, "", "k", ""), 0, inval},
		{"quit with extras", pkt(OpQuit, e4, "", ""), 0, inval},
		{"quitq with value", pkt(OpQuitQ, "", "", "v"), 0, inval},
		{"stat with extras", pkt(OpStat, e4, "", ""), 0, inval},
		{"touch without extras", pkt(OpTouch, "", "k", ""), 0, inval},
		{"touch without key", pkt(OpTouch, e4, "", ""), 0, inval},
		{"gat with 8 extras", pkt(OpGat, e8, "k", ""), 0, inval},
		{"gatkq without key", pkt(OpGatKQ, e4, "", ""), 0, inval},
		{"sasl list mechs with key", pkt(OpSASLListMechs, "", "k", ""), 0, inval},
		{"sasl auth without key", pkt(OpSASLAuth, "", "", "v"), 0, inval},
		{"sasl step with extras", pkt(OpSASLStep, e4, "PLAIN", ""), 0, inval},

		// Unknown opcodes: memcached swallows BodyLen bytes after the
		// extras and key, so a key or extras eat into what follows
		// (the padding here).
		{"unknown opcode", pkt(0x30, "", "", ""), 0, unknown},
		{"unknown opcode with value", pkt(0x30, "", "", "hello"), 0, unknown},
		{"unknown opcode with key overswallows", cat(pkt(0x40, "ee", "kkk", "vvvvv"), []byte("ppppp")), 0, unknown},
		{"verbosity", cat(pkt(OpVerbosity, "\x00\x00\x00\x01", "", ""), []byte("pppp")), 0, unknown},
		{"verbosity without extras", pkt(OpVerbosity, "", "", ""), 0, unknown},
		{"membase bucket", cat(pkt(OpBucket, "", "default", ""), []byte("ppppppp")), 0, unknown},
		{"membase getl", cat(pkt(OpGetL, e4, "k", ""), []byte("ppppp")), 0, unknown},
		{"unknown opcode with a 2 GiB body swallows nothing", rawReq(0x30, 0, 0, 1<<31, ""), 0, unknown},
		{"unknown opcode with a 4 GiB body swallows nothing", rawReq(0x30, 0, 0, 1<<32-1, ""), 0, unknown},
		// memcached runs without -S: SASL is unknown, the value swallowed.
		{"sasl list mechs", pkt(OpSASLListMechs, "", "", ""), 0, unknown},
		{"sasl auth", pkt(OpSASLAuth, "", "PLAIN", "\x00user\x00pass"), 0, unknown},
		{"sasl step", pkt(OpSASLStep, "", "PLAIN", ""), 0, unknown},
		{"sasl auth with a 2 GiB value swallows nothing", rawReq(OpSASLAuth, 1, 0, 1<<31+1, "k"), 0, unknown},

		{"set too large", pkt(OpSet, e8, "k", strings.Repeat("v", fits+1)), small, tooBig},
		{"setq too large", pkt(OpSetQ, e8, "k", strings.Repeat("v", fits+1)), small, tooBig},
		{"set too large with flags", pkt(OpSet, flags8, "k", strings.Repeat("v", fits-3)), small, tooBig},
		{"add too large with a longer key", pkt(OpAdd, e8, "kk", strings.Repeat("v", fits)), small, tooBig},
		{"append too large", pkt(OpAppend, "", "k", strings.Repeat("v", fits+1)), small, tooBig},
		{"prependq too large", pkt(OpPrependQ, "", "k", strings.Repeat("v", fits+1)), small, tooBig},
		{"set over 1 MiB by default", pkt(OpSet, e8, "k", strings.Repeat("v", 1048517)), 0, tooBig},
		{"set with a 2 GiB value swallows nothing", rawReq(OpSet, 1, 8, 9+1<<31, e8+"k"), 0, tooBig},
		{"append with a 4 GiB value swallows nothing", rawReq(OpAppend, 1, 0, 1<<32-1, "k"), 0, tooBig},
	}
}

func TestReaderRefusals(t *testing.T) {
	for _, c := range refusals() {
		t.Run(c.name, func(t *testing.T) {
			r := newReader(cat(c.in, marker()), c.maxItem)
			var p Packet
			buf, err := r.Next(&p, nil)
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Next = %v, want *Error %+v", err, c.want)
			}
			if *perr != c.want {
				t.Fatalf("Next = %+v, want %+v", *perr, c.want)
			}
			if len(buf) != 0 {
				t.Fatalf("buffer after an error has %d bytes", len(buf))
			}
			if hdr := c.in[:HeaderLen]; p.Opcode != Opcode(hdr[1]) || p.Opaque != binary.BigEndian.Uint32(hdr[12:]) {
				t.Fatalf("header not filled for the reply: %+v", p.Header)
			}
			if c.want.Close {
				return
			}
			if _, err := r.Next(&p, buf); err != nil || p.Opcode != OpNoop || p.Opaque != 0xeeeeeeee {
				t.Fatalf("the marker after it: %+v, %v", p.Header, err)
			}
			if _, err := r.Next(&p, buf); err != io.EOF {
				t.Fatalf("at the end: %v, want io.EOF", err)
			}
		})
	}
}

func TestReaderItemSizeBoundary(t *testing.T) {
	e8, flags8 := strings.Repeat("\x00", 8), "\x00\x00\x00\x01\x00\x00\x00\x00"
	for _, c := range []struct {
		op    Opcode
		ext   string
		value int
	}{{OpSet, e8, 1024 - 60}, {OpSet, flags8, 1024 - 64}, {OpAppend, "", 1024 - 60}, {OpReplaceQ, e8, 1024 - 60}} {
		in := pkt(c.op, c.ext, "k", strings.Repeat("v", c.value))
		var p Packet
		buf, err := newReader(in, 1024).Next(&p, nil)
		if err != nil || !bytes.Equal(buf, in) || len(p.Value) != c.value {
			t.Errorf("%#02x with flags %x and a %d-byte value: %v", c.op, c.ext, c.value, err)
		}
	}
}

func TestReaderLeavesIgnoredValue(t *testing.T) {
	// memcached answers touch, gat and stat from their extras and key
	// and parses the value as the next request: here a NOOP.
	for _, c := range []struct {
		op       Opcode
		ext, key string
	}{{OpTouch, "\x00\x00\x00\x00", "k"}, {OpGatQ, "\x00\x00\x00\x00", "k"},
		{OpGatK, "\x00\x00\x00\x00", "k"}, {OpStat, "", ""}, {OpStat, "", "items"}} {
		in := pkt(c.op, c.ext, c.key, string(marker()))
		r := newReader(in, 0)
		var p Packet
		buf, err := r.Next(&p, nil)
		head := len(c.ext) + len(c.key)
		want := pkt(c.op, c.ext, c.key, "")
		if err != nil || !bytes.Equal(buf, want) || int(p.BodyLen) != head {
			t.Fatalf("%#02x: %x, %+v, %v; want %x", c.op, buf, p.Header, err, want)
		}
		if string(p.Key) != c.key || string(p.Extras) != c.ext || len(p.Value) != 0 {
			t.Fatalf("%#02x: slices %q %q %q", c.op, p.Extras, p.Key, p.Value)
		}
		if _, err := r.Next(&p, buf); err != nil || p.Opcode != OpNoop || p.Opaque != 0xeeeeeeee {
			t.Fatalf("%#02x: the value was not read as the next request: %+v, %v", c.op, p.Header, err)
		}
	}
}

func TestReaderOneByteReads(t *testing.T) {
	e8 := "\x00\x00\x00\x07\x00\x00\x00\x00"
	stream := cat(
		pkt(OpSet, e8, "key", strings.Repeat("v", 300)),
		pkt(OpGetK, "", "key", ""),
		pkt(0x30, "", "", "swallowed"),
		pkt(OpSet, e8, "k", strings.Repeat("x", 2000)), // too large for -I 1024
		pkt(OpTouch, "\x00\x00\x00\x01", "key", ""),
		marker(),
	)
	br := bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(stream)), 16)
	r := NewReader(br, 1024)
	var p Packet
	var buf []byte
	var got []string
	for {
		var err error
		buf, err = r.Next(&p, buf)
		if err == io.EOF {
			break
		}
		var perr *Error
		switch {
		case errors.As(err, &perr):
			got = append(got, "refused "+p.Opcode.hex()+" "+perr.Status.Message())
		case err != nil:
			t.Fatalf("Next: %v", err)
		default:
			got = append(got, "read "+p.Opcode.hex()+" "+string(p.Key)+" "+strconv.Itoa(len(p.Value)))
			checkInside(t, &p, buf)
		}
	}
	want := []string{"read 01 key 300", "read 0c key 0", "refused 30 Unknown command",
		"refused 01 Too large.", "read 1c key 0", "read 0a  0"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func (op Opcode) hex() string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[op>>4], digits[op&15]})
}

func TestReaderEnds(t *testing.T) {
	get := pkt(OpGet, "", "key", "")
	set := pkt(OpSet, strings.Repeat("\x00", 8), "k", "value")
	myErr := errors.New("connection reset")
	cases := []struct {
		name string
		in   io.Reader
		want error
	}{
		{"empty", bytes.NewReader(nil), io.EOF},
		{"part of a header", bytes.NewReader(get[:10]), io.ErrUnexpectedEOF},
		{"header without key", bytes.NewReader(get[:HeaderLen]), io.ErrUnexpectedEOF},
		{"part of the key", bytes.NewReader(get[:HeaderLen+1]), io.ErrUnexpectedEOF},
		{"part of a value", bytes.NewReader(set[:len(set)-1]), io.ErrUnexpectedEOF},
		{"inside a swallow", bytes.NewReader(pkt(0x30, "", "", "abc")[:HeaderLen+1]), io.ErrUnexpectedEOF},
		{"inside a too-large value", bytes.NewReader(rawReq(OpSet, 1, 8, 9+2<<20, strings.Repeat("\x00", 9))), io.ErrUnexpectedEOF},
		{"inside an oversized key", bytes.NewReader(rawReq(OpGet, 20000, 0, 20000, "kk")), io.ErrUnexpectedEOF},
		{"an error before the header", iotest.ErrReader(myErr), myErr},
		{"an error inside the header", io.MultiReader(bytes.NewReader(get[:5]), iotest.ErrReader(myErr)), myErr},
		{"an error inside the value", io.MultiReader(bytes.NewReader(set[:30]), iotest.ErrReader(myErr)), myErr},
	}
	for _, c := range cases {
		r := NewReader(bufio.NewReader(c.in), 0)
		var p Packet
		if _, err := r.Next(&p, nil); err != c.want {
			t.Errorf("%s: Next = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestReaderReusesBuffer(t *testing.T) {
	in := cat(pkt(OpGetK, "", "first", ""), pkt(OpGetK, "", "second", ""))
	r := newReader(in, 0)
	var p Packet
	buf := make([]byte, 0, 128)
	b1, err := r.Next(&p, buf)
	if err != nil || &b1[0] != &buf[:1][0] {
		t.Fatalf("first read did not use the buffer given: %v", err)
	}
	b2, err := r.Next(&p, b1)
	if err != nil || &b2[0] != &buf[:1][0] || string(p.Key) != "second" {
		t.Fatalf("second read did not reuse the buffer: %v %q", err, p.Key)
	}
}

func TestReadResponse(t *testing.T) {
	hit := AppendResponse(nil, OpGetK, StatusOK, 7, 99, []byte("\x00\x00\x00\x05"), []byte("key"), []byte("value"))
	miss := AppendError(nil, OpGet, StatusKeyNotFound, 8, "Not found")
	br := bufio.NewReaderSize(bytes.NewReader(cat(hit, miss)), 16) // smaller than a header
	var p Packet
	dst := []byte("prefix")
	dst, start, err := ReadResponse(br, dst, &p)
	if err != nil || start != 6 || string(dst[:6]) != "prefix" || !bytes.Equal(dst[6:], hit) {
		t.Fatalf("first response: start %d, %x, %v", start, dst, err)
	}
	if p.Status() != StatusOK || p.CAS != 99 || p.Opaque != 7 || string(p.Key) != "key" ||
		string(p.Value) != "value" || string(p.Extras) != "\x00\x00\x00\x05" || &p.Value[0] != &dst[len(dst)-5] {
		t.Fatalf("first response decoded as %+v", p)
	}
	dst, start, err = ReadResponse(br, dst, &p)
	if err != nil || start != 6+len(hit) || !bytes.Equal(dst[start:], miss) || string(p.Value) != "Not found" ||
		p.Status() != StatusKeyNotFound || len(p.Key) != 0 || len(p.Extras) != 0 {
		t.Fatalf("second response: start %d, %+v, %v", start, p, err)
	}
	n := len(dst)
	if dst, _, err = ReadResponse(br, dst, &p); err != io.EOF || len(dst) != n {
		t.Fatalf("at the end: %v, len %d want %d", err, len(dst), n)
	}
}

func TestReadResponseErrors(t *testing.T) {
	good := AppendResponse(nil, OpGet, StatusOK, 1, 2, []byte("\x00\x00\x00\x00"), nil, []byte("value"))
	badMagic := append([]byte{MagicRequest}, good[1:]...)
	keyOver := AppendResponse(nil, OpGetK, StatusOK, 1, 0, nil, []byte("key"), nil)
	binary.BigEndian.PutUint32(keyOver[8:], 2)
	extOver := bytes.Clone(good)
	extOver[4] = 10 // extras 10 > body 9
	huge := AppendResponse(nil, OpGet, StatusOK, 1, 0, nil, nil, nil)
	binary.BigEndian.PutUint32(huge[8:], MaxResponseBody+1)
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"bad magic", badMagic, ErrBadResponse},
		{"key longer than body", keyOver, ErrBadResponse},
		{"extras longer than body", extOver, ErrBadResponse},
		{"body too large", huge, ErrBadResponse},
		{"truncated header", good[:HeaderLen-1], io.ErrUnexpectedEOF},
		{"truncated body", good[:len(good)-1], io.ErrUnexpectedEOF},
		{"header only", good[:HeaderLen], io.ErrUnexpectedEOF},
		{"empty", nil, io.EOF},
	}
	for _, c := range cases {
		var p Packet
		dst := []byte("x")
		dst, start, err := ReadResponse(bufio.NewReader(bytes.NewReader(c.in)), dst, &p)
		if !errors.Is(err, c.want) || (c.want != ErrBadResponse && err != c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
		if string(dst) != "x" || start != 1 {
			t.Errorf("%s: dst %q start %d after an error", c.name, dst, start)
		}
	}
	// The largest body allowed is read.
	big := AppendResponse(nil, OpGet, StatusOK, 1, 0, nil, nil, make([]byte, MaxResponseBody))
	var p Packet
	if _, _, err := ReadResponse(bufio.NewReader(bytes.NewReader(big)), nil, &p); err != nil || len(p.Value) != MaxResponseBody {
		t.Fatalf("a %d-byte body: %v", MaxResponseBody, err)
	}
}

// saslCase is a SASL request for a Reader with ServeSASL, as memcached -S
// frames it: accepted (want nil) or refused.
type saslCase struct {
	name string
	in   []byte
	want *Error
}

func saslCases() []saslCase {
	// The largest value of mechanism "PLAIN" memcached -S takes,
	// measured: 48+6+value+2+8 bytes fit its 512 KiB slab_chunk_max.
	const fits = 524224
	inval, noMem := &Error{Status: StatusInvalid}, &Error{Status: StatusNoMemory}
	invalClose := &Error{Status: StatusInvalid, Close: true}
	return []saslCase{
		{"list mechs", pkt(OpSASLListMechs, "", "", ""), nil},
		{"auth", pkt(OpSASLAuth, "", "PLAIN", "\x00user\x00pass"), nil},
		{"auth without value", pkt(OpSASLAuth, "", "PLAIN", ""), nil},
		{"step", pkt(OpSASLStep, "", "PLAIN", "x"), nil},
		{"auth with a 32-byte mechanism", pkt(OpSASLAuth, "", strings.Repeat("M", 32), "v"), nil},
		{"auth with a 33-byte mechanism", pkt(OpSASLAuth, "", strings.Repeat("M", 33), "vvvv"), inval},
		{"step with a 33-byte mechanism", pkt(OpSASLStep, "", strings.Repeat("M", 33), "vvvv"), inval},
		{"auth at the chunk limit", pkt(OpSASLAuth, "", "PLAIN", strings.Repeat("v", fits)), nil},
		{"auth over the chunk limit", pkt(OpSASLAuth, "", "PLAIN", strings.Repeat("v", fits+1)), noMem},
		{"auth with a 2 GiB value swallows nothing", rawReq(OpSASLAuth, 5, 0, 5+1<<31, "PLAIN"), noMem},
		{"auth with extras", pkt(OpSASLAuth, "\x00\x00\x00\x00", "PLAIN", ""), invalClose},
		{"auth without key", pkt(OpSASLAuth, "", "", "v"), invalClose},
		{"list mechs with value", pkt(OpSASLListMechs, "", "", "v"), invalClose},
		{"auth key longer than body", rawReq(OpSASLAuth, 5, 0, 4, "PLAIN"), &Error{Status: StatusUnknownCommand, Close: true}},
	}
}

func TestReaderServeSASL(t *testing.T) {
	for _, c := range saslCases() {
		r := newReader(cat(c.in, marker()), 0)
		r.ServeSASL()
		var p Packet
		buf, err := r.Next(&p, nil)
		if c.want == nil {
			if err != nil || !bytes.Equal(buf, c.in) {
				t.Errorf("%s: Next = %v, want the packet", c.name, err)
				continue
			}
			checkInside(t, &p, buf)
		} else {
			var perr *Error
			if !errors.As(err, &perr) || *perr != *c.want {
				t.Errorf("%s: Next = %v, want %+v", c.name, err, *c.want)
				continue
			}
			if c.want.Close {
				continue
			}
		}
		if _, err := r.Next(&p, buf); err != nil || p.Opcode != OpNoop || p.Opaque != 0xeeeeeeee {
			t.Errorf("%s: the marker after it: %+v, %v", c.name, p.Header, err)
		}
	}
}

func TestReaderServeVerbosity(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want *Error
	}{
		{"verbosity", pkt(OpVerbosity, "\x00\x00\x00\x02", "", ""), nil},
		{"without extras", pkt(OpVerbosity, "", "", ""), &Error{Status: StatusInvalid, Close: true}},
		{"with a key", pkt(OpVerbosity, "\x00\x00\x00\x02", "k", ""), &Error{Status: StatusInvalid, Close: true}},
		{"with a value", pkt(OpVerbosity, "\x00\x00\x00\x02", "", "v"), &Error{Status: StatusInvalid, Close: true}},
	}
	for _, c := range cases {
		r := newReader(cat(c.in, marker()), 0)
		r.ServeVerbosity()
		var p Packet
		buf, err := r.Next(&p, nil)
		if c.want == nil {
			if err != nil || !bytes.Equal(buf, c.in) || string(p.Extras) != "\x00\x00\x00\x02" {
				t.Errorf("%s: Next = %v, extras %x", c.name, err, p.Extras)
			}
			continue
		}
		var perr *Error
		if !errors.As(err, &perr) || *perr != *c.want {
			t.Errorf("%s: Next = %v, want %+v", c.name, err, *c.want)
		}
	}
	// Without the option it stays unknown, as in memcached 1.6, which
	// swallows 4 bytes past the extras.
	var p Packet
	var perr *Error
	in := cat(pkt(OpVerbosity, "\x00\x00\x00\x02", "", ""), []byte("pppp"))
	if _, err := newReader(in, 0).Next(&p, nil); !errors.As(err, &perr) ||
		*perr != (Error{Status: StatusUnknownCommand}) {
		t.Errorf("verbosity without ServeVerbosity: %v", err)
	}
}
