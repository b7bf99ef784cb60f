package proxycore

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/memserver"
	"github.com/moxifleet/moxi/internal/proxytest"
	"github.com/moxifleet/moxi/mapstore"
)

const pkgName = "proxycore"

// testProxy is a proxy listening on loopback in front of given servers.
type testProxy struct {
	addr string
	port int
	srv  *Server
}

// startProxy runs a proxy over addrs ("host:port") with beh adjusted by
// tweak, and stops it when the test ends.
func startProxy(t testing.TB, addrs []string, tweak func(*Behavior)) *testProxy {
	t.Helper()
	beh := DefaultBehavior()
	beh.DownstreamProtocol = "ascii"
	if tweak != nil {
		tweak(&beh)
	}
	return startProxyConfig(t, Config{}, Bucket{Name: "default", Behavior: beh, Maps: staticMap(t, addrs...)})
}

// startProxyConfig runs a proxy with cfg's process settings and the given
// buckets, all on one fresh loopback port.
func startProxyConfig(t testing.TB, cfg Config, buckets ...Bucket) *testProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	for _, b := range buckets {
		b.Port = port
		cfg.Buckets = append(cfg.Buckets, b)
	}
	return serveProxy(t, ln, cfg)
}

// startProxyPort runs a proxy with cfg as given (ports included) on
// loopback port.
func startProxyPort(t testing.TB, port int, cfg Config) *testProxy {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	return serveProxy(t, ln, cfg)
}

func serveProxy(t testing.TB, ln net.Listener, cfg Config) *testProxy {
	t.Helper()
	port := ln.Addr().(*net.TCPAddr).Port
	cfg.Version, cfg.Threads, cfg.ConfType = "test", 1, "static"
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := New(cfg, Deps{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(port, ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return &testProxy{addr: ln.Addr().String(), port: port, srv: srv}
}

// staticMap is a ketama map over addrs ("host:port").
func staticMap(t testing.TB, addrs ...string) StaticMap {
	t.Helper()
	var servers []mapstore.Server
	for _, a := range addrs {
		host, port, _ := net.SplitHostPort(a)
		p, _ := net.LookupPort("tcp", port)
		servers = append(servers, mapstore.Server{Host: host, Port: p})
	}
	m, err := mapstore.NewServerListMap(servers, mapstore.KetamaWeighted)
	if err != nil {
		t.Fatalf("map: %v", err)
	}
	return StaticMap{M: m}
}

// bothProtocols runs a test once per downstream protocol, passing the
// behavior tweak that selects it.
func bothProtocols(t *testing.T, f func(t *testing.T, proto func(*Behavior))) {
	for _, p := range []Protocol{ProtocolText, ProtocolBinary} {
		t.Run(string(p), func(t *testing.T) { f(t, func(b *Behavior) { b.DownstreamProtocol = p }) })
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// memcacheds starts n real memcached servers and returns their addresses.
func memcacheds(t *testing.T, n int, args ...string) ([]*proxytest.Memcached, []string) {
	t.Helper()
	var ms []*proxytest.Memcached
	var addrs []string
	for i := 0; i < n; i++ {
		m := proxytest.StartMemcached(t, pkgName, args...)
		ms = append(ms, m)
		addrs = append(addrs, m.Addr)
	}
	return ms, addrs
}

// servers starts n servers for tests that need only their addresses:
// real memcached where it is installed (always under CI=true, where its
// absence fails the test), else moxi's built-in server in this process,
// so that on a machine without memcached these tests still run rather
// than skip.
func servers(t *testing.T, n int) []string {
	t.Helper()
	if _, err := exec.LookPath("memcached"); err == nil || os.Getenv("CI") == "true" {
		_, addrs := memcacheds(t, n)
		return addrs
	}
	var addrs []string
	for range n {
		srv := memserver.New(memserver.Config{Version: "1.6.18"})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
		})
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs
}

// client is a raw text-protocol connection for tests.
type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c := dialConn(t, addr)
	return &client{t: t, c: c, r: bufio.NewReaderSize(c, 1<<20)}
}

// dialConn connects to addr, closes the connection when the test ends
// and bounds every read and write, so a hung proxy fails the test.
func dialConn(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return c
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) line() string {
	c.t.Helper()
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read line: %v (partial %q)", err, l)
	}
	return l
}

// expect reads len(want) bytes and compares them with want.
func (c *client) expect(want string) {
	c.t.Helper()
	if err := c.match(want); err != nil {
		c.t.Fatal(err)
	}
}

// exchange sends req and reads the reply, reporting how it differs from
// want. Unlike send and expect it may be used off the test's goroutine.
func (c *client) exchange(req, want string) error {
	if _, err := io.WriteString(c.c, req); err != nil {
		return fmt.Errorf("write %q: %w", req, err)
	}
	return c.match(want)
}

// match reads len(want) bytes and reports how they differ from want.
func (c *client) match(want string) error {
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c.r, got); err != nil {
		return fmt.Errorf("read %d bytes: %w (got %q, want %q)", len(want), err, got, want)
	}
	if string(got) != want {
		return fmt.Errorf("got %q, want %q", got, want)
	}
	return nil
}

// proxytestStart starts one memcached for a benchmark.
func proxytestStart(b *testing.B) string {
	return proxytest.StartMemcached(b, pkgName).Addr
}

// waitUntil polls cond every millisecond until it holds, failing the
// test with what after 2 seconds.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
