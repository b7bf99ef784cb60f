package node

// streamMeter adds up the REST clients' reconnects across clients that
// come and go (a fleet leader's, one set per leadership), so the total
// never goes back, and counts the streams open now.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/moxifleet/moxi/cluster/restconfig"
)

// droppingServer streams one config per request and ends the stream each
// time the test sends on drop.
func droppingServer(t *testing.T) (url string, drop chan<- struct{}) {
	ch := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"ok":1}` + "\n\n\n\n"))
		w.(http.Flusher).Flush()
		select {
		case <-ch:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

// runTracked runs a client of url, tracked by m, until the returned stop
// is called; stop returns once Run has and the client is untracked.
func runTracked(t *testing.T, m *streamMeter, url string) (stop func()) {
	cfg := restconfig.DefaultConfig()
	cfg.URLs, cfg.Retry = []string{url}, time.Millisecond
	c, err := restconfig.New(cfg, func(context.Context, []byte, string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	untrack := m.track(c)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer untrack()
		_ = c.Run(ctx)
	}()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return stop
}

func waitSample(t *testing.T, m *streamMeter, reconnects uint64, up int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, u := m.sample()
		if r == reconnects && u == up {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("streamMeter: %d reconnects, %d up; want %d, %d", r, u, reconnects, up)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStreamMeter(t *testing.T) {
	var m streamMeter
	if r, u := m.sample(); r != 0 || u != 0 {
		t.Fatalf("zero meter: %d, %d", r, u)
	}
	url, drop := droppingServer(t)
	stop := runTracked(t, &m, url) // a first leadership
	waitSample(t, &m, 0, 1)
	drop <- struct{}{}
	waitSample(t, &m, 1, 1)
	drop <- struct{}{}
	waitSample(t, &m, 2, 1)
	stop()
	waitSample(t, &m, 2, 0) // a follower again: no stream, the count stays

	runTracked(t, &m, url) // leading again, with a new client
	waitSample(t, &m, 2, 1)
	drop <- struct{}{}
	waitSample(t, &m, 3, 1)
}
