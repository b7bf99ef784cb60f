package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/moxifleet/moxi/cluster"
	"github.com/moxifleet/moxi/internal/proxytest"
	"github.com/moxifleet/moxi/node"
)

// statusServer answers /status with a fixed node.Status.
func statusServer(t *testing.T) *httptest.Server {
	t.Helper()
	st := node.Status{Status: cluster.Status{Node: "n1:7946", RaftState: "Leader", Leader: "n1:7946", Term: 3},
		Serving: true, Source: "http://mb:8091/pools/default/bucketsStreamingConfig/default"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/status" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(st)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestStatusPrintsTables(t *testing.T) {
	srv := statusServer(t)
	var out, errs bytes.Buffer
	if code := runStatus([]string{srv.URL}, &out, &errs); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	for _, want := range []string{"node n1:7946", "raft Leader", "term 3", "MEMBER", "bucketsStreamingConfig"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if code := runStatus([]string{"127.0.0.1:1"}, &out, &errs); code != exitConfig || !strings.Contains(errs.String(), "moxi: status:") {
		t.Errorf("unreachable: exit %d, stderr %q", code, errs.String())
	}
}

// TestStatusWatch: -watch redraws the tables every interval, each frame
// starting with a clear screen, until its context ends; a node that stops
// answering shows an error in place and the watch goes on.
func TestStatusWatch(t *testing.T) {
	srv := statusServer(t)
	var out proxytest.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchStatus(ctx, &http.Client{Timeout: time.Second}, srv.URL, 10*time.Millisecond, &out)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(out.String(), clearScreen) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than 3 frames in 5s:\n%q", out.String())
		}
		time.Sleep(5 * time.Millisecond) // poll interval, bounded by deadline
	}
	srv.Close()
	frames := strings.Count(out.String(), clearScreen)
	for strings.Count(out.String(), clearScreen) < frames+2 {
		if time.Now().After(deadline) {
			t.Fatalf("the watch stopped when the node did:\n%q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if !strings.Contains(out.String(), "status: fetch") || !strings.Contains(out.String(), "node n1:7946") {
		t.Errorf("want frames with the tables and then the fetch error:\n%q", out.String())
	}
	var errs bytes.Buffer
	if code := runStatus([]string{"-watch", "-interval", "0s", srv.URL}, &out, &errs); code != exitConfig {
		t.Errorf("-interval 0s: exit %d", code)
	}
}
