package node

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moxifleet/moxi/cluster"
)

func TestPeerAdminURL(t *testing.T) {
	for _, c := range []struct {
		admin, gossip, want string
		fails               bool
	}{
		{admin: "10.0.0.6:8290", gossip: "10.0.0.6:7946", want: "http://10.0.0.6:8290"},
		{admin: "127.0.0.3:8290", gossip: "127.0.0.3:7946", want: "http://127.0.0.3:8290"},        // a fleet on one host
		{admin: "127.0.0.1:8290", gossip: "10.0.0.6:7946", want: "http://10.0.0.6:8290"},          // loopback is the caller's host
		{admin: "0.0.0.0:8290", gossip: "10.0.0.6:7946", want: "http://10.0.0.6:8290"},            // any address
		{admin: "[::]:8290", gossip: "[fd00::6]:7946", want: "http://[fd00::6]:8290"},             // any address, IPv6
		{admin: "admin.example:8290", gossip: "10.0.0.6:7946", want: "http://admin.example:8290"}, // a name is kept
		{admin: "", gossip: "10.0.0.6:7946", fails: true},                                         // an older moxi
		{admin: "10.0.0.6:0", gossip: "10.0.0.6:7946", fails: true},
		{admin: "10.0.0.6", gossip: "10.0.0.6:7946", fails: true},
	} {
		got, err := peerAdminURL(c.admin, c.gossip)
		if c.fails != (err != nil) || got != c.want {
			t.Errorf("peerAdminURL(%q, %q) = %q, %v; want %q (fails %v)", c.admin, c.gossip, got, err, c.want, c.fails)
		}
	}
}

// peer is a cluster.Member whose admin address is srv's.
func peer(name, addr string) cluster.Member {
	return cluster.Member{Name: name, Addr: addr, Gossip: "alive", Admin: strings.TrimPrefix(addr, "http://")}
}

func TestPeerMemberReachableDeadAndHung(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/status/history" {
			_, _ = w.Write([]byte(`{"seq":3}`))
			return
		}
		_, _ = w.Write([]byte(`{"node":"ok"}`))
	}))
	defer ok.Close()
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // a paused peer: answers after the page gave up
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hung.Close()
	defer close(release)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()

	v := &statusViews{client: &http.Client{Timeout: peerTimeout}}
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	defer cancel()
	start := time.Now()
	got := v.peerMember(ctx, peer("ok", ok.URL), true)
	if !got.Reachable || string(got.Status) != `{"node":"ok"}` || string(got.History) != `{"seq":3}` || got.Error != "" {
		t.Errorf("reachable peer: %+v", got)
	}
	for _, m := range []cluster.Member{peer("dead", "http://"+dead), peer("hung", hung.URL), {Name: "old", Addr: dead}} {
		got := v.peerMember(ctx, m, false)
		if got.Reachable || got.Status != nil || got.Error == "" {
			t.Errorf("%s peer: %+v; want unreachable with an error", m.Name, got)
		}
	}
	if took := time.Since(start); took > peerTimeout+500*time.Millisecond {
		t.Errorf("the peers took %v, over the %v bound", took, peerTimeout)
	}
}

func TestFleetStandaloneIsThisNode(t *testing.T) {
	v := newStatusViews(&Node{}, newSampler(func() liveSource { return nil }), "127.0.0.1:8290")
	fv := v.fleets.get(true)
	if len(fv.Members) != 1 || !fv.Members[0].Self || !fv.Members[0].Reachable || fv.Node != "127.0.0.1:8290" {
		t.Fatalf("standalone /fleet: %+v", fv)
	}
	var st Status
	if err := json.Unmarshal(fv.Members[0].Status, &st); err != nil || st.Mode != "standalone" || st.Node != v.self {
		t.Errorf("its status: %+v, %v", st, err)
	}
	if fv.Members[0].History == nil {
		t.Error("no history with ?history=1")
	}
}

func TestStatusHistoryScope(t *testing.T) {
	v := &statusViews{smp: newSampler(func() liveSource { return nil })}
	for scope, code := range map[string]int{"": 200, "node": 200, "server": 200, "everything": 400} {
		w := httptest.NewRecorder()
		v.serveHistory(w, httptest.NewRequest("GET", "/status/history?scope="+scope, nil))
		if w.Code != code {
			t.Errorf("scope %q: %d, want %d", scope, w.Code, code)
		}
	}
}

// TestStatusPageSelfContained: the page loads nothing from elsewhere (it
// must work offline): no src or href, no url() or @import, no absolute
// or protocol-relative URL but SVG's namespace name.
func TestStatusPageSelfContained(t *testing.T) {
	w := httptest.NewRecorder()
	servePage(w, httptest.NewRequest("GET", "/", nil))
	page := w.Body.String()
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") || !strings.Contains(page, "<svg") {
		t.Fatalf("GET /: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	page = strings.ReplaceAll(page, `"http://www.w3.org/2000/svg"`, "")
	for _, re := range []string{`\ssrc=`, `\shref=`, `url\(`, `@import`, `https?:`, `["'(]//`} {
		if m := regexp.MustCompile(re).FindString(page); m != "" {
			t.Errorf("the page refers to something outside it: %q matches %s", m, re)
		}
	}
}

// TestFleetCacheNeverWaitsTwice: only the first /fleet waits for a
// gathering; a stale view is answered at once while one gathering (and
// no more) runs in the background.
func TestFleetCacheNeverWaitsTwice(t *testing.T) {
	var gathered atomic.Int32
	release := make(chan struct{})
	c := &fleetCache{gather: func(_ context.Context, _ bool) FleetView {
		switch gathered.Add(1) {
		case 1: // already stale when it arrives
			return FleetView{Node: "first", At: time.Now().Add(-time.Hour)}
		default: // a slow one: a paused peer
			<-release
			return FleetView{Node: "second", At: time.Now()}
		}
	}}
	if v := c.get(false); v.Node != "first" {
		t.Fatalf("first get: %+v", v)
	}
	start := time.Now()
	for range 3 {
		if v := c.get(false); v.Node != "first" {
			t.Fatalf("while gathering: %+v, want the stale view", v)
		}
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("stale answers took %v", took)
	}
	waitFor(t, func() bool { return gathered.Load() == 2 }) // the background one began
	c.get(false)
	if n := gathered.Load(); n != 2 {
		t.Errorf("%d gatherings, want 2: one at a time", n)
	}
	close(release)
	waitFor(t, func() bool { return c.get(false).Node == "second" })
	if n := gathered.Load(); n != 2 {
		t.Errorf("%d gatherings after a fresh view, want 2", n)
	}
}
