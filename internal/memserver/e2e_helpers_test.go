package memserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/proxytest"
)

// startMemserver serves a fresh Server on a loopback port and returns its
// address; the server is shut down when the test ends.
func startMemserver(t testing.TB, cfg Config) (string, *Server) {
	t.Helper()
	if cfg.Version == "" {
		cfg.Version = "1.6.18"
	}
	s := New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-done
	})
	return ln.Addr().String(), s
}

// startMemcached runs the real memcached as the oracle. Without it the test
// is skipped, except in CI where that is a setup error.
func startMemcached(t testing.TB, extra ...string) string {
	t.Helper()
	return proxytest.StartMemcached(t, "internal/memserver", append([]string{"-m", "64"}, extra...)...).Addr
}

// client is a raw protocol connection for transcripts.
type client struct {
	c  net.Conn
	br *bufio.Reader
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &client{c: c, br: bufio.NewReader(c)}
}

// exchange sends chunk followed by "mn" and returns everything answered
// before the "MN" line, so no reply boundary has to be guessed.
func (cl *client) exchange(chunk string) (string, error) {
	_ = cl.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := cl.c.Write([]byte(chunk + "mn\r\n")); err != nil {
		return "", fmt.Errorf("write: %w", err)
	}
	var out bytes.Buffer
	for {
		line, err := cl.br.ReadString('\n')
		if line == "MN\r\n" {
			return out.String(), nil
		}
		out.WriteString(line)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return out.String(), fmt.Errorf("no MN after %q: %w", out.String(), err)
			}
			return out.String() + "<CLOSED>", nil
		}
	}
}
