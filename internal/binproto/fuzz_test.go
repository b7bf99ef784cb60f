package binproto

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzReader feeds arbitrary bytes to Reader.Next until it stops. The
// first byte picks the Reader's options so that small item limits, SASL
// and verbosity are reached too. Every packet returned must be the raw
// request memcached would serve: well-formed, its slices inside the
// buffer, re-encodable byte for byte.
func FuzzReader(f *testing.F) {
	e8 := strings.Repeat("\x00", 8)
	seeds := [][]byte{
		pkt(OpGetK, "", "key", ""),
		cat(pkt(OpGetKQ, "", "a", ""), pkt(OpGetKQ, "", "b", ""), marker()),
		pkt(OpSet, "\x00\x00\x00\x01\x00\x00\x00\x00", "k", "value"),
		pkt(OpIncrement, strings.Repeat("\x00", 20), "n", ""),
		pkt(OpTouch, "\x00\x00\x00\x00", "k", string(marker())),
		pkt(OpStat, "", "", "xx"),
		pkt(OpSASLAuth, "", "PLAIN", "\x00u\x00p"),
		pkt(OpVerbosity, "\x00\x00\x00\x01", "", ""),
		cat(pkt(0x40, "ee", "kkk", "vvvvv"), []byte("ppppp"), marker()),
		pkt(OpSet, e8, "k", strings.Repeat("v", 200)),
		pkt(OpGet, "", strings.Repeat("k", 251), ""),
		rawReq(OpGet, 3, 0, 2, "abc"),
		rawReq(OpSet, 1, 8, 9+1<<31, e8+"k"),
		rawReq(0x30, 0, 0, 1<<32-1, ""),
		rawReq(OpGet, 16361, 0, 16361, "k"),
		append([]byte{0x81}, pkt(OpGet, "", "k", "")[1:]...),
		pkt(OpGet, "", "k", "")[:30],
	}
	for i, s := range seeds {
		f.Add(append([]byte{byte(i)}, s...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		maxItem := [...]int{0, 1024, 100, 1 << 30}[data[0]&3]
		r := NewReader(bufio.NewReaderSize(bytes.NewReader(data[1:]), 16), maxItem)
		if data[0]&4 != 0 {
			r.ServeSASL()
		}
		if data[0]&8 != 0 {
			r.ServeVerbosity()
		}
		var p Packet
		var buf []byte
		for {
			var err error
			buf, err = r.Next(&p, buf)
			var perr *Error
			if errors.As(err, &perr) {
				if len(buf) != 0 {
					t.Fatalf("%d bytes returned with %v", len(buf), err)
				}
				if perr.Close {
					return
				}
				continue
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return
			}
			if err != nil {
				t.Fatalf("Next: unexpected error %v", err)
			}
			checkFuzzPacket(t, &p, buf, maxItem)
		}
	})
}

// checkFuzzPacket asserts what every packet Next returns must satisfy.
func checkFuzzPacket(t *testing.T, p *Packet, buf []byte, maxItem int) {
	t.Helper()
	if p.Magic != MagicRequest || p.KeyLen > MaxKeyLen || len(buf) != HeaderLen+int(p.BodyLen) {
		t.Fatalf("bad packet: %+v in %d bytes", p.Header, len(buf))
	}
	if maxItem <= 0 {
		maxItem = DefaultMaxItemSize
	}
	if len(p.Value) > maxItem {
		t.Fatalf("a %d-byte value passed an item limit of %d", len(p.Value), maxItem)
	}
	var h Header
	h.Decode(buf)
	if h != p.Header {
		t.Fatalf("buffer header %+v, packet header %+v", h, p.Header)
	}
	checkInside(t, p, buf)
	again := AppendRequest(nil, p.Opcode, p.VBucket, p.Opaque, p.CAS, p.Extras, p.Key, p.Value)
	again[5] = p.DataType
	if !bytes.Equal(again, buf) {
		t.Fatalf("re-encoded %x, read %x", again, buf)
	}
	if dispatch(&p.Header, serveOpts{sasl: true, verbosity: true}) != accept {
		t.Fatalf("returned a packet memcached refuses: %+v", p.Header)
	}
}

// FuzzReadResponse feeds arbitrary bytes to ReadResponse until it stops,
// appending every response to one buffer after a prefix.
func FuzzReadResponse(f *testing.F) {
	seeds := [][]byte{
		AppendResponse(nil, OpGetK, StatusOK, 7, 99, []byte("\x00\x00\x00\x05"), []byte("key"), []byte("value")),
		cat(AppendError(nil, OpGet, StatusKeyNotFound, 1, "Not found"), AppendResponse(nil, OpNoop, StatusOK, 2, 0, nil, nil, nil)),
		cat(AppendResponse(nil, OpStat, StatusOK, 0, 0, nil, []byte("pid"), []byte("1")),
			AppendResponse(nil, OpStat, StatusOK, 0, 0, nil, nil, nil)),
		AppendRequest(nil, OpGet, 0, 0, 0, nil, []byte("k"), nil),
		rawResp(3, 0, 2),
		rawResp(0, 0, MaxResponseBody+1),
		AppendResponse(nil, OpGet, StatusOK, 1, 0, nil, nil, []byte("value"))[:30],
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		dst := []byte("prefix")
		var p Packet
		for {
			n := len(dst)
			var start int
			var err error
			dst, start, err = ReadResponse(br, dst, &p)
			if start != n {
				t.Fatalf("start %d, want %d", start, n)
			}
			if err != nil {
				if len(dst) != n {
					t.Fatalf("buffer grew to %d on %v", len(dst), err)
				}
				if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.Is(err, ErrBadResponse) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			pkt := dst[start:]
			if p.Magic != MagicResponse || p.BodyLen > MaxResponseBody || len(pkt) != HeaderLen+int(p.BodyLen) {
				t.Fatalf("bad response %+v in %d bytes", p.Header, len(pkt))
			}
			var h Header
			h.Decode(pkt)
			if h != p.Header || string(dst[:6]) != "prefix" {
				t.Fatalf("buffer header %+v, packet header %+v", h, p.Header)
			}
			checkInside(t, &p, pkt)
		}
	})
}

// rawResp builds a response header with arbitrary lengths and no body.
func rawResp(keyLen uint16, extLen uint8, bodyLen uint32) []byte {
	h := Header{Magic: MagicResponse, Opcode: OpGet, KeyLen: keyLen, ExtLen: extLen, BodyLen: bodyLen}
	return h.AppendTo(nil)
}

// FuzzPeekResponse checks that PeekResponse, falling back to
// ReadResponse for packets larger than the buffer as callers do, reads
// the same responses and ends the same way as ReadResponse alone.
func FuzzPeekResponse(f *testing.F) {
	f.Add(cat(AppendResponse(nil, OpGetK, StatusOK, 7, 99, []byte("\x00\x00\x00\x05"), []byte("key"), []byte("value")),
		AppendResponse(nil, OpNoop, StatusOK, 2, 0, nil, nil, nil)))
	f.Add(AppendResponse(nil, OpGetK, StatusOK, 1, 0, nil, []byte("k"), bytes.Repeat([]byte("v"), 40)))
	f.Add(rawResp(3, 0, 2))
	f.Add(AppendResponse(nil, OpGet, StatusOK, 1, 0, nil, nil, []byte("value"))[:30])
	f.Add([]byte{MagicResponse, 1, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		want := bufio.NewReaderSize(bytes.NewReader(data), 16)
		got := bufio.NewReaderSize(bytes.NewReader(data), 32)
		var wp, gp Packet
		var scratch []byte
		for {
			var werr error
			_, _, werr = ReadResponse(want, nil, &wp)
			n, ok, gerr := PeekResponse(got, &gp)
			if gerr == nil && !ok {
				scratch, _, gerr = ReadResponse(got, scratch[:0], &gp)
			}
			if (werr == nil) != (gerr == nil) || (werr == io.EOF) != (gerr == io.EOF) {
				t.Fatalf("ReadResponse: %v, PeekResponse: %v", werr, gerr)
			}
			if werr != nil {
				return
			}
			if wp.Header != gp.Header || !bytes.Equal(wp.Extras, gp.Extras) || !bytes.Equal(wp.Key, gp.Key) || !bytes.Equal(wp.Value, gp.Value) {
				t.Fatalf("ReadResponse %+v, PeekResponse %+v", wp, gp)
			}
			if ok {
				_, _ = got.Discard(n)
			}
		}
	})
}
