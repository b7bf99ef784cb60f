package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/moxifleet/moxi/cluster"
	"github.com/moxifleet/moxi/mapstore"
	"github.com/moxifleet/moxi/proxycore"
)

// Status is what GET /status answers: this node's view of its fleet and
// of the maps it serves, and its live figures.
type Status struct {
	cluster.Status
	Mode    string    `json:"mode"` // fleet or standalone
	Serving bool      `json:"serving"`
	Source  string    `json:"source"`
	Maps    []mapInfo `json:"maps"`
	Live    *Live     `json:"live,omitempty"` // nil until the proxy has been read twice
}

// adminServer serves /metrics, /health, the status page and its JSON,
// and runs the sampler the page's figures come from.
type adminServer struct {
	srv         *http.Server
	ln          net.Listener
	stopSampler context.CancelFunc
	sampled     chan struct{} // closed once the sampler has stopped
}

func (a *adminServer) close() {
	if a == nil {
		return
	}
	a.stopSampler()
	<-a.sampled
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = a.srv.Shutdown(ctx)
}

// startAdmin listens on admin_listen (loopback unless told otherwise) and
// serves /metrics, /health, /status, /status/history, /fleet and the page
// at /; in a fleet it advertises the address bound in gossip, where the
// other nodes' /fleet finds it.
func (n *Node) startAdmin() (*adminServer, error) {
	addr := n.own.Admin
	if addr == "" {
		addr = DefaultAdminListen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ListenError{msg: "failed to listen on admin_listen " + addr, Err: err}
	}
	smp := newSampler(n.liveSource)
	v := newStatusViews(n, smp, ln.Addr().String())
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", n.metricsHandler())
	mux.HandleFunc("GET /health", n.serveHealth)
	mux.HandleFunc("GET /status", v.serveStatus)
	mux.HandleFunc("GET /status/history", v.serveHistory)
	mux.HandleFunc("GET /fleet", v.serveFleet)
	mux.HandleFunc("GET /{$}", servePage)
	if n.own.Pprof {
		mountPprof(mux)
	}
	ln, handler := n.secureAdmin(ln, mux) // HTTPS under cluster TLS (admin_tls.go)
	ctx, stop := context.WithCancel(context.Background())
	a := &adminServer{srv: newAdminHTTP(handler, n.adminErrorLog()), ln: ln, stopSampler: stop, sampled: make(chan struct{})}
	go func() {
		defer close(a.sampled)
		smp.run(ctx)
	}()
	go func() {
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.logger.Error("admin server stopped", "err", err)
		}
	}()
	if n.fleet != nil {
		n.fleet.cluster.SetAdmin(v.self)
	}
	n.logger.Info("admin HTTP listening", "on", v.self)
	return a, nil
}

// status gathers the node's Status.
func (n *Node) status() Status {
	f := n.fleet
	if f == nil {
		return n.standaloneStatus()
	}
	st := Status{Status: f.cluster.Status(), Mode: "fleet", Serving: n.serving()}
	if s := f.store.State().Source; s != nil {
		st.Source = mapstore.RedactURL(s.Spec)
	}
	f.mu.Lock()
	for _, m := range f.info {
		st.Maps = append(st.Maps, m)
	}
	f.mu.Unlock()
	sort.Slice(st.Maps, func(i, j int) bool {
		if st.Maps[i].Port != st.Maps[j].Port {
			return st.Maps[i].Port < st.Maps[j].Port
		}
		return st.Maps[i].Bucket < st.Maps[j].Bucket
	})
	return st
}

// standaloneStatus is a standalone proxy's Status: no fleet, and its
// maps as the proxy has them.
func (n *Node) standaloneStatus() Status {
	st := Status{Mode: "standalone", Serving: n.serving(), Source: mapstore.RedactURL(n.opts.ClusterConfig)}
	if ps := n.currentProxy(); ps != nil {
		now := time.Now()
		ps.EachMap(func(m proxycore.MapSample) {
			mi := mapInfo{Port: m.Port, Bucket: m.Bucket, Version: m.Version, Servers: m.Servers, Source: "-z"}
			if age, ok := n.clock.age(m, now); ok {
				mi.AppliedAt = now.Add(-age)
			}
			st.Maps = append(st.Maps, mi)
		})
	}
	return st
}

// serving reports whether this node serves with a map: the proxy runs
// and at least one of its buckets has one.
func (n *Node) serving() bool {
	f := n.fleet
	if f == nil {
		// standalone: a proxy with a map, or the built-in server
		maps := 0
		if n.proxy != nil {
			n.proxy.EachMap(func(proxycore.MapSample) { maps++ })
		}
		return maps > 0 || n.mem != nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return n.proxy != nil && len(f.info) > 0
}

// currentProxy is the proxy, once there is one (a fleet node builds it
// when the fleet's map arrives, while the admin server already runs).
func (n *Node) currentProxy() proxyServer {
	if f := n.fleet; f != nil {
		f.mu.Lock()
		defer f.mu.Unlock()
	}
	return n.proxy
}

// liveSource is the proxy for the sampler, nil until there is one.
func (n *Node) liveSource() liveSource {
	if ps := n.currentProxy(); ps != nil {
		return ps
	}
	return nil
}

// serveHealth is the load balancer's check: 200 while this node serves
// with a map, 503 otherwise.
func (n *Node) serveHealth(w http.ResponseWriter, _ *http.Request) {
	if !n.serving() {
		http.Error(w, "not serving: no map yet", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}
