package restconfig

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Basic auth is sent when a user is set and absent otherwise; JSON is
// asked for and the configured User-Agent is sent.
func TestRequestHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, user, pass string
	}{{"with user", "Administrator", "s3cr:et"}, {"no user", "", "ignored"}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newReplayServer(t, []byte("HTTP/1.0 200 OK\r\n\r\n{\"ok\":1}"))
			cfg := Config{URLs: []string{srv.url("/pools/default/buckets/default")},
				User: tc.user, Password: tc.pass, UserAgent: "moxi/2.0.0-test"}
			c := startClient(t, cfg, (&collector{}).handle)
			waitFor(t, 5*time.Second, "one config", func() bool { return c.Stats().Configs >= 1 })
			srv.mu.Lock()
			req := srv.reqs[0]
			srv.mu.Unlock()
			user, pass, ok := req.BasicAuth()
			if tc.user != "" && (!ok || user != tc.user || pass != tc.pass) {
				t.Errorf("basic auth = %q, %q, %v; want %q, %q", user, pass, ok, tc.user, tc.pass)
			}
			if tc.user == "" && req.Header.Get("Authorization") != "" {
				t.Errorf("Authorization %q sent without a user", req.Header.Get("Authorization"))
			}
			if got := req.Header.Get("Accept"); got != "application/json" {
				t.Errorf("Accept = %q, want application/json", got)
			}
			if got := req.UserAgent(); got != "moxi/2.0.0-test" {
				t.Errorf("User-Agent = %q, want moxi/2.0.0-test", got)
			}
			if req.Method != http.MethodGet || req.URL.Path != "/pools/default/buckets/default" {
				t.Errorf("request %s %s, want GET of the URL path", req.Method, req.URL.Path)
			}
		})
	}
}

// Cancelling ctx while Run is blocked reading an open, silent stream
// returns nil promptly and clears Connected.
func TestCancelMidStream(t *testing.T) {
	srv := httptest.NewServer(streamHandler(`{"rev":1}` + "\n\n\n\n"))
	t.Cleanup(srv.Close)
	r := startClient(t, Config{URLs: []string{srv.URL}}, (&collector{}).handle)
	waitFor(t, 5*time.Second, "config on an open stream", func() bool {
		st := r.Stats()
		return st.Configs >= 1 && st.Connected && st.CurrentURL == srv.URL
	})
	r.cancel()
	if err := r.wait(t, 2*time.Second); err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
	if r.Stats().Connected {
		t.Errorf("still Connected after Run returned")
	}
}

// A server that accepts but never answers does not hold Run past a cancel.
func TestCancelSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		select {
		case c := <-accepted:
			c.Close()
		default:
		}
	})
	r := startClient(t, Config{URLs: []string{"http://" + ln.Addr().String() + "/"}}, (&collector{}).handle)
	var conn net.Conn
	select {
	case conn = <-accepted:
		accepted <- conn // leave it for cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("client never connected")
	}
	select {
	case <-r.done:
		t.Fatalf("Run returned %v before cancel", r.err)
	default:
	}
	r.cancel()
	if err := r.wait(t, 2*time.Second); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
}

// Cancelling during a long pause between passes returns at once.
func TestCancelDuringPause(t *testing.T) {
	lg, logs := newLogger()
	r := startClient(t, Config{URLs: []string{closedURL(t)}, Logger: lg, Retry: time.Hour}, (&collector{}).handle)
	waitFor(t, 5*time.Second, "the first pass to fail", func() bool {
		return logs.count("could not contact REST server(s)") >= 1
	})
	r.cancel()
	if err := r.wait(t, 2*time.Second); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
}

// A second concurrent Run is refused rather than racing the first.
func TestRunRefusesConcurrentRun(t *testing.T) {
	r := startClient(t, Config{URLs: []string{closedURL(t)}, Retry: time.Hour}, (&collector{}).handle)
	waitFor(t, 5*time.Second, "Run to start", func() bool { return r.Stats().CurrentURL != "" })
	if err := r.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("second Run = %v, want an already-running error", err)
	}
}

// New rejects configs that could never work.
func TestNewValidates(t *testing.T) {
	h := (&collector{}).handle
	good := []string{"http://127.0.0.1:8091/pools/default/bucketsStreaming/default"}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no urls", Config{}, "no REST URL"},
		{"bad scheme", Config{URLs: []string{"ftp://h/x"}}, `scheme "ftp"`},
		{"no host", Config{URLs: []string{"http:///x"}}, "no host"},
		{"unparseable", Config{URLs: []string{"http://h:port/"}}, "parse"},
		{"negative retry", Config{URLs: good, Retry: -1}, "negative"},
		{"client timeout", Config{URLs: good, HTTPClient: &http.Client{Timeout: time.Second}}, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, h)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want error containing %q", err, tc.want)
			}
		})
	}
	if _, err := New(Config{URLs: good}, nil); err == nil {
		t.Errorf("New with nil handler succeeded")
	}
	if _, err := New(Config{URLs: good}, h); err != nil {
		t.Errorf("New with a good config: %v", err)
	}
}
