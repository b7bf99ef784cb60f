package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

const ioTimeout = 5 * time.Second // per read or write on a raw connection

// rawConn is a text-protocol connection with helpers that fail the test.
type rawConn struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

func dialTimeout(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, ioTimeout) }

func dial(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, r: bufio.NewReaderSize(c, 64<<10)}
}

func (rc *rawConn) send(s string) {
	rc.t.Helper()
	_ = rc.c.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(rc.c, s); err != nil {
		rc.t.Fatalf("write %q: %v", abbrev(s), err)
	}
}

// reply reads one complete reply (see readReply) or fails the test.
func (rc *rawConn) reply() string {
	rc.t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(ioTimeout))
	s, err := readReply(rc.r)
	if err != nil {
		rc.t.Fatalf("read reply: %v (got so far %q)", err, abbrev(s))
	}
	return s
}

// call sends req and returns its one reply.
func (rc *rawConn) call(req string) string {
	rc.t.Helper()
	rc.send(req)
	return rc.reply()
}

// expect sends req and requires the reply to be exactly want.
func (rc *rawConn) expect(req, want string) {
	rc.t.Helper()
	if got := rc.call(req); got != want {
		rc.t.Errorf("%q:\n got %q\nwant %q", abbrev(req), abbrev(got), abbrev(want))
	}
}

// expectClosed requires the peer to close the connection without sending more.
func (rc *rawConn) expectClosed() {
	rc.t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(ioTimeout))
	b, err := rc.r.ReadByte()
	if err == nil {
		rc.t.Fatalf("expected the connection to close, got byte %q", b)
	}
	if !errors.Is(err, io.EOF) && !isConnReset(err) {
		rc.t.Fatalf("expected EOF, got %v", err)
	}
}

func isConnReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// readReply reads one text-protocol reply: a single line, or a multi-line
// reply (VALUE blocks or STAT lines up to END), or a meta VA header plus its
// data block. It returns the exact bytes.
func readReply(r *bufio.Reader) (string, error) {
	var out strings.Builder
	for {
		line, err := r.ReadString('\n')
		out.WriteString(line)
		if err != nil {
			return out.String(), err
		}
		switch fields := strings.Fields(line); {
		case len(fields) == 0:
			return out.String(), nil
		case fields[0] == "VALUE" && len(fields) >= 4:
			if err := readBlock(r, &out, fields[3]); err != nil {
				return out.String(), err
			}
		case fields[0] == "VA" && len(fields) >= 2:
			err := readBlock(r, &out, fields[1])
			return out.String(), err
		case fields[0] == "STAT":
		default:
			return out.String(), nil
		}
	}
}

// readBlock reads a data block of the decimal size n plus its \r\n.
func readBlock(r *bufio.Reader, out *strings.Builder, n string) error {
	size, err := strconv.Atoi(n)
	if err != nil || size < 0 {
		return fmt.Errorf("bad data size %q", n)
	}
	buf := make([]byte, size+2)
	if _, err := io.ReadFull(r, buf); err != nil {
		return err
	}
	out.Write(buf)
	return nil
}

// abbrev shortens long protocol strings for messages.
func abbrev(s string) string {
	if len(s) <= 200 {
		return s
	}
	return fmt.Sprintf("%s...(%d bytes)...%s", s[:120], len(s)-180, s[len(s)-60:])
}

// newClient returns a gomemcache client for the given servers.
func newClient(servers ...string) *memcache.Client {
	c := memcache.New(servers...)
	c.Timeout = ioTimeout
	c.MaxIdleConns = 4
	return c
}

// directGet fetches key straight from one memcached: value and hit.
func directGet(t testing.TB, addr, key string) (string, bool) {
	t.Helper()
	it, err := newClient(addr).Get(key)
	if errors.Is(err, memcache.ErrCacheMiss) {
		return "", false
	}
	if err != nil {
		t.Fatalf("direct get %q from %s: %v", key, addr, err)
	}
	return string(it.Value), true
}

// statsOf returns the "stats" map of one server (or of moxi).
func statsOf(t testing.TB, addr, cmd string) map[string]string {
	t.Helper()
	rc := dial(t, addr)
	reply := rc.call(cmd + "\r\n")
	rc.c.Close()
	if !strings.HasSuffix(reply, "END\r\n") {
		t.Fatalf("%s on %s: %q", cmd, addr, abbrev(reply))
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(reply, "END\r\n"), "\r\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, " ", 3)
		if len(f) != 3 || f[0] != "STAT" {
			t.Fatalf("%s on %s: bad line %q", cmd, addr, line)
		}
		m[f[1]] = f[2]
	}
	return m
}
