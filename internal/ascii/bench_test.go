package ascii

import (
	"bufio"
	"strings"
	"testing"
)

// loopReader replays the same bytes forever without allocating.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	total := 0
	for total < len(p) {
		n := copy(p[total:], l.data[l.off:])
		l.off = (l.off + n) % len(l.data)
		total += n
	}
	return total, nil
}

func benchReader(b *testing.B, cmd string) {
	r := NewReader(bufio.NewReader(&loopReader{data: []byte(cmd)}), DefaultMaxItemSize)
	var req Request
	if err := r.Next(&req); err != nil { // warm up the Request's buffers
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(cmd)))
	b.ResetTimer()
	for b.Loop() {
		if err := r.Next(&req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReaderGet(b *testing.B) { benchReader(b, "get user:12345:profile\r\n") }

func BenchmarkReaderSet(b *testing.B) {
	benchReader(b, "set user:12345:profile 0 300 100\r\n"+strings.Repeat("v", 100)+"\r\n")
}

func BenchmarkReaderMultiGet10(b *testing.B) {
	keys := make([]string, 10)
	for i := range keys {
		keys[i] = "user:12345:field" + string(rune('a'+i))
	}
	benchReader(b, "get "+strings.Join(keys, " ")+"\r\n")
}
