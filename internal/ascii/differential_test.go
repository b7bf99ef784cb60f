package ascii

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
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

// startMemcached runs memcached on a free 127.0.0.1 port until the test
// ends and returns its address.
func startMemcached(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("memcached")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("internal/ascii: memcached not found on PATH: %v", err)
		}
		t.Skip("internal/ascii: memcached not on PATH; skipping the differential test")
	}
	port := freePort(t)
	args := []string{"-p", strconv.Itoa(port), "-U", "0", "-l", "127.0.0.1", "-I", "1m"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "nobody") // memcached refuses to run as root
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start memcached: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("memcached did not accept on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond) // poll interval, bounded by deadline
	}
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
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
