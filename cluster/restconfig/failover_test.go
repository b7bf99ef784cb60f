package restconfig

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A 401 ends Run at once with ErrUnauthorized naming the URL, even with a
// good URL later in the list: retrying the same credentials cannot help.
func TestUnauthorizedStopsRun(t *testing.T) {
	deny := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
	}))
	t.Cleanup(deny.Close)
	good := httptest.NewServer(streamHandler(`{"ok":1}` + "\n\n\n\n"))
	t.Cleanup(good.Close)
	col := &collector{}
	r := startClient(t, Config{URLs: []string{deny.URL + "/pools", good.URL}, User: "u", Password: "p"}, col.handle)
	err := r.wait(t, 5*time.Second)
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Run = %v, want ErrUnauthorized", err)
	}
	if !strings.Contains(err.Error(), deny.URL+"/pools") {
		t.Errorf("error %q does not name the URL", err)
	}
	if n := len(col.all()); n != 0 {
		t.Errorf("%d configs delivered, want none", n)
	}
}

// A non-200 status is a failed source: logged with the status, then the
// next URL is tried.
func TestNon200FailsOver(t *testing.T) {
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"boom"}`, http.StatusInternalServerError)
	}))
	t.Cleanup(broken.Close)
	good := httptest.NewServer(streamHandler(`{"ok":1}` + "\n\n\n\n"))
	t.Cleanup(good.Close)
	lg, logs := newLogger()
	col := &collector{}
	c := startClient(t, Config{URLs: []string{broken.URL, good.URL}, Logger: lg}, col.handle)
	waitFor(t, 5*time.Second, "config from the good URL", func() bool { return c.Stats().Configs >= 1 })
	if logs.count("unexpected HTTP status 500 Internal Server Error from REST server: "+broken.URL, "level=WARN") < 1 {
		t.Errorf("log lacks the status line:\n%s", logs)
	}
	for _, m := range col.all() {
		if m.url != good.URL {
			t.Errorf("message from %q; the 500 body must not reach the handler", m.url)
		}
	}
	if c.Stats().Failovers < 1 {
		t.Errorf("Failovers = 0, want >= 1")
	}
}

// A 200 with no config at all is counted as empty and the next URL is
// tried, so a good second server is not starved.
func TestEmptyTransferFailsOver(t *testing.T) {
	empty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(empty.Close)
	good := httptest.NewServer(streamHandler(`{"ok":1}` + "\n\n\n\n"))
	t.Cleanup(good.Close)
	lg, logs := newLogger()
	col := &collector{}
	c := startClient(t, Config{URLs: []string{empty.URL, good.URL}, Logger: lg}, col.handle)
	waitFor(t, 5*time.Second, "config from the good URL", func() bool { return c.Stats().Configs >= 1 })
	if logs.count("invalid, empty config from REST server "+empty.URL, "level=WARN") < 1 {
		t.Errorf("log lacks the empty-config line:\n%s", logs)
	}
	if st := c.Stats(); st.EmptyConfigs < 1 || st.Failovers < 1 || st.BadConfigs != 0 {
		t.Errorf("stats = %+v, want EmptyConfigs, Failovers >= 1 and no BadConfigs", st)
	}
}

// A Handler error that is not a JSON syntax error is logged with its own
// text rather than moxi's "parse JSON failed".
func TestRejectedConfigLogsHandlerText(t *testing.T) {
	srv := httptest.NewServer(streamHandler(`{"name":"default"}` + "\n\n\n\n"))
	t.Cleanup(srv.Close)
	lg, logs := newLogger()
	col := &collector{reject: func([]byte) error { return errors.New("no vBucketServerMap") }}
	c := startClient(t, Config{URLs: []string{srv.URL}, Logger: lg}, col.handle)
	want := `bad config from REST server: ` + srv.URL + `: no vBucketServerMap, {\"name\":\"default\"}`
	waitFor(t, 5*time.Second, "rejection logged", func() bool { return logs.count(want, "level=ERROR") >= 1 })
	if st := c.Stats(); st.Configs != 0 || st.BadConfigs < 1 {
		t.Errorf("stats = %+v, want no accepted and some bad configs", st)
	}
	if strings.Contains(logs.String(), "parse JSON failed") {
		t.Errorf("non-JSON rejection logged as a parse failure:\n%s", logs)
	}
}

// With nothing listening the client logs each connect failure and moxi's
// start-up warning after each pass, and keeps retrying.
func TestUnreachableKeepsRetrying(t *testing.T) {
	u := closedURL(t)
	lg, logs := newLogger()
	r := startClient(t, Config{URLs: []string{u}, Logger: lg, MaxBackoff: 20 * time.Millisecond}, (&collector{}).handle)
	want := "could not contact REST server(s): " + u + "; perhaps they are unavailable or still initializing"
	waitFor(t, 5*time.Second, "three warnings", func() bool { return logs.count(want, "level=WARN") >= 3 })
	if logs.count("curl error: ", "from: "+u, "level=WARN") < 3 {
		t.Errorf("log lacks the connect errors:\n%s", logs)
	}
	select {
	case <-r.done:
		t.Fatalf("Run returned %v while servers were down", r.err)
	default:
	}
}

// A server that dies mid-stream and comes back on the same port is
// reconnected to; while it is away the client logs the error-level line
// (a config was received before) and keeps trying.
func TestServerRestartReconnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	u := "http://" + addr + "/pools/default/bucketsStreaming/default"
	first := serveHTTP(t, ln, streamHandler(`{"rev":1}`+"\n\n\n\n"))
	lg, logs := newLogger()
	col := &collector{}
	r := startClient(t, Config{URLs: []string{u}, Logger: lg, MaxBackoff: 20 * time.Millisecond}, col.handle)
	waitFor(t, 5*time.Second, "first config", func() bool { return r.Stats().Configs >= 1 })

	first.Close()
	want := "could not contact REST server(s): " + u
	waitFor(t, 5*time.Second, "two error-level unreachable lines", func() bool {
		return logs.count(want, "level=ERROR") >= 2
	})
	if strings.Contains(logs.String(), "perhaps they are unavailable") {
		t.Errorf("start-up warning logged after a config was received:\n%s", logs)
	}

	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("re-listen on %s: %v", addr, err)
	}
	serveHTTP(t, ln2, streamHandler(`{"rev":2}`+"\n\n\n\n"))
	waitFor(t, 5*time.Second, "config after restart", func() bool { return r.Stats().Configs >= 2 })
	got := col.all()
	if got[0].body != `{"rev":1}` || got[len(got)-1].body != `{"rev":2}` {
		t.Errorf("messages %+v, want rev 1 then rev 2", got)
	}
	if st := r.Stats(); st.Connects < 2 {
		t.Errorf("Connects = %d, want >= 2", st.Connects)
	}
}

// serveHTTP serves h on ln with a plain http.Server, whose Close drops
// open streams at once, like a killed process.
func serveHTTP(t *testing.T, ln net.Listener, h http.Handler) *http.Server {
	t.Helper()
	srv := &http.Server{Handler: h}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return srv
}

// Every stream opened after the client's first counts as a reconnect,
// whatever URL of the list it is on: here each re-open first fails on a
// dead URL and moves to the next one. The first connection, also reached
// by failing over, does not count.
func TestReconnectsCounted(t *testing.T) {
	drop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"ok":1}` + "\n\n\n\n"))
		w.(http.Flusher).Flush()
		select { // the stream ends normally when the test says so
		case <-drop:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	dead := closedURL(t)
	c := startClient(t, Config{URLs: []string{dead, srv.URL}}, (&collector{}).handle)
	waitFor(t, 5*time.Second, "first stream", func() bool { return c.Stats().Connected })
	if st := c.Stats(); st.Connects != 1 || st.Reconnects != 0 || st.Failovers != 1 {
		t.Fatalf("after the first connection: %+v, want 1 connect, 0 reconnects, 1 failover", st)
	}
	const drops = 3
	for i := 1; i <= drops; i++ {
		drop <- struct{}{}
		waitFor(t, 5*time.Second, "stream re-opened", func() bool {
			st := c.Stats()
			return st.Connects == uint64(i+1) && st.Connected
		})
	}
	if st := c.Stats(); st.Reconnects != drops || st.Failovers != drops+1 {
		t.Errorf("after %d dropped streams: %+v, want %d reconnects and %d failovers", drops, st, drops, drops+1)
	}
	c.cancel()
	c.wait(t, 5*time.Second)
	if st := c.Stats(); st.Connected || st.Reconnects != drops {
		t.Errorf("after Run returned: %+v, want not connected, still %d reconnects", st, drops)
	}
}
