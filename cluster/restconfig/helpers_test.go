package restconfig

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/fixtures"
)

// restTestdata returns shared/testdata (see fixtures.SharedTestdata).
func restTestdata(t testing.TB) string { return fixtures.SharedTestdata(t, "cluster/restconfig") }

// fixture reads a file under shared/testdata.
func fixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(restTestdata(t), rel))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return b
}

// twoConfigs returns the two real configs that
// rest/bucketsStreamingConfig-default.* stream, trimmed as the client
// delivers them, read from their own source files.
func twoConfigs(t testing.TB) (string, string) {
	t.Helper()
	a := strings.TrimSpace(string(fixture(t, "moxi/vbucket_rest2.cfg")))
	b := strings.TrimSpace(string(fixture(t, "libvbucket/regression-bug2112")))
	return a, b
}

// logBuffer is an io.Writer for a slog handler that Run's goroutine
// writes while the test reads.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// count returns how many log lines contain all of the parts.
func (l *logBuffer) count(parts ...string) int {
	n := 0
	for line := range strings.SplitSeq(l.String(), "\n") {
		if containsAll(line, parts) {
			n++
		}
	}
	return n
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func newLogger() (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(d)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s", d, what)
		case <-tick.C:
		}
	}
}

// message is one Handler call.
type message struct{ body, url string }

// collector is a Handler that records messages and optionally rejects
// them.
type collector struct {
	mu     sync.Mutex
	msgs   []message
	reject func(body []byte) error
}

func (c *collector) handle(_ context.Context, body []byte, url string) error {
	c.mu.Lock()
	c.msgs = append(c.msgs, message{string(body), url})
	c.mu.Unlock()
	if c.reject != nil {
		return c.reject(body)
	}
	return nil
}

func (c *collector) all() []message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]message(nil), c.msgs...)
}

// running is a Client whose Run goroutine the test can stop and observe.
type running struct {
	*Client
	cancel context.CancelFunc
	done   chan struct{} // closed when Run has returned err
	err    error
}

// startClient runs a Client until the test ends. Cleanup cancels it and
// waits for Run, so servers closed by earlier-registered cleanups see the
// client gone first.
func startClient(t *testing.T, cfg Config, h Handler) *running {
	t.Helper()
	if cfg.Retry == 0 {
		cfg.Retry = 5 * time.Millisecond
	}
	c, err := New(cfg, h)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Client: c, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(r.done); r.err = c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	return r
}

// wait returns Run's result or fails after d.
func (r *running) wait(t testing.TB, d time.Duration) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(d):
		t.Fatalf("Run did not return within %v", d)
		return nil
	}
}

// replayServer is a raw TCP server, not net/http, that answers each
// connection with fixed bytes and closes it, so fixtures reach the client
// byte-for-byte. Connection i gets payloads[min(i, len-1)].
type replayServer struct {
	ln      net.Listener
	accepts atomic.Int64
	mu      sync.Mutex
	reqs    []*http.Request
}

func newReplayServer(t *testing.T, payloads ...[]byte) *replayServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &replayServer{ln: ln}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			i := int(s.accepts.Add(1)) - 1
			wg.Go(func() { s.serve(conn, payloads[min(i, len(payloads)-1)]) })
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return s
}

// serve reads the request first (closing with unread input would reset
// the connection before the client reads the answer), then replays.
func (s *replayServer) serve(conn net.Conn, payload []byte) {
	defer conn.Close()
	req, err := http.ReadRequest(bufio.NewReader(conn))
	if err != nil {
		return
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	_, _ = conn.Write(payload)
}

func (s *replayServer) url(path string) string { return "http://" + s.ln.Addr().String() + path }

// closedURL returns a loopback URL on which nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/pools/default/bucketsStreaming/default"
}

// streamHandler is an http.Handler that writes chunks, flushing after
// each, then keeps the stream open until the client goes away, as
// ns_server does between config changes.
func streamHandler(chunks ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fl := w.(http.Flusher)
		for _, c := range chunks {
			_, _ = w.Write([]byte(c))
			fl.Flush()
		}
		<-r.Context().Done()
	}
}
