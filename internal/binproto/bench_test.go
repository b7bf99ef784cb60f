package binproto

import (
	"bufio"
	"strings"
	"testing"
)

// loopReader replays one packet forever, so that a benchmark reads from
// a bufio.Reader without ever allocating input.
type loopReader struct {
	pkt []byte
	off int
}

func (l *loopReader) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		c := copy(b[n:], l.pkt[l.off:])
		n += c
		l.off = (l.off + c) % len(l.pkt)
	}
	return n, nil
}

func getkRequest() []byte { return pkt(OpGetK, "", "user:1234567890", "") }

func getkHit() []byte {
	return AppendResponse(nil, OpGetK, StatusOK, 7, 99, []byte("\x00\x00\x00\x05"),
		[]byte("user:1234567890"), []byte(strings.Repeat("v", 100)))
}

func BenchmarkReaderGet(b *testing.B) {
	in := getkRequest()
	r := NewReader(bufio.NewReaderSize(&loopReader{pkt: in}, 4096), 0)
	var p Packet
	buf := make([]byte, 0, 64)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = r.Next(&p, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadResponse(b *testing.B) {
	in := getkHit()
	br := bufio.NewReaderSize(&loopReader{pkt: in}, 4096)
	var p Packet
	dst := make([]byte, 0, 256)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, _, err = ReadResponse(br, dst[:0], &p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHotPathsDoNotAllocate holds the benchmarks' promise: once the
// buffers are warm, reading a request or a response allocates nothing.
func TestHotPathsDoNotAllocate(t *testing.T) {
	r := NewReader(bufio.NewReaderSize(&loopReader{pkt: getkRequest()}, 4096), 0)
	var p Packet
	var buf []byte
	var err error
	if n := testing.AllocsPerRun(1000, func() {
		if buf, err = r.Next(&p, buf); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Reader.Next: %v allocs per request", n)
	}
	br := bufio.NewReaderSize(&loopReader{pkt: getkHit()}, 4096)
	var dst []byte
	if n := testing.AllocsPerRun(1000, func() {
		if dst, _, err = ReadResponse(br, dst[:0], &p); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("ReadResponse: %v allocs per response", n)
	}
}
