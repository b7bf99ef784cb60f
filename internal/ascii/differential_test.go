package ascii

import (
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/proxytest"
)

// TestDifferentialMemcached replays every errorCase against a real
// memcached and checks that it answers exactly what the table (and so the
// parser, see TestErrorTranscripts) says.
func TestDifferentialMemcached(t *testing.T) {
	addr := startMemcached(t)
	for _, c := range errorCases() {
		got, closed := memcachedReply(t, addr, c)
		if got != c.want || closed != c.close {
			t.Errorf("%s: memcached answered %q closed=%v, table says %q closed=%v",
				c.name, got, closed, c.want, c.close)
		}
	}
}

// startMemcached starts a real memcached for the differential test and
// returns its address (proxytest's one launcher and tool check).
func startMemcached(t *testing.T) string {
	t.Helper()
	return proxytest.StartMemcached(t, "internal/ascii").Addr
}

// memcachedReply sends c.in on a fresh connection and reads the answer:
// until EOF when c.close is expected, else until len(c.want) bytes (or
// EOF) have arrived.
func memcachedReply(t *testing.T, addr string, c errorCase) (string, bool) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("%s: dial: %v", c.name, err)
	}
	defer conn.Close()
	go func() { _, _ = conn.Write([]byte(c.in)) }()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for c.close || out.Len() < len(c.want) {
		n, err := conn.Read(buf)
		out.Write(buf[:n])
		if errors.Is(err, io.EOF) || isReset(err) {
			return out.String(), true
		}
		if err != nil {
			t.Errorf("%s: read: %v (got %q so far)", c.name, err, out.String())
			return out.String(), false
		}
	}
	return out.String(), false
}

// isReset reports a connection reset, which is how a close with unread
// input can show up.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET)
}
