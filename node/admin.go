package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/moxifleet/moxi/cluster"
	"github.com/moxifleet/moxi/proxycore"
)

// Status is what GET /status answers: this node's view of its fleet and
// of the maps it serves.
type Status struct {
	cluster.Status
	Serving bool      `json:"serving"`
	Source  string    `json:"source"`
	Maps    []mapInfo `json:"maps"`
}

// adminServer serves /status, /health and a page for people.
type adminServer struct {
	srv *http.Server
	ln  net.Listener
}

func (a *adminServer) close() {
	if a == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = a.srv.Shutdown(ctx)
}

// startAdmin listens on admin_listen (loopback unless told otherwise):
// /metrics always, /status, /health and the page in a fleet, /health
// alone for a standalone proxy.
func (n *Node) startAdmin() (*adminServer, error) {
	addr := n.own.Admin
	if addr == "" {
		addr = DefaultAdminListen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ListenError{msg: "failed to listen on admin_listen " + addr, Err: err}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", n.metricsHandler())
	mux.HandleFunc("GET /health", n.serveHealth)
	if n.fleet != nil {
		mux.HandleFunc("GET /status", n.serveStatus)
		mux.HandleFunc("GET /{$}", n.servePage)
	}
	if n.own.Pprof {
		mountPprof(mux)
	}
	a := &adminServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, ln: ln}
	go func() {
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.logger.Error("admin server stopped", "err", err)
		}
	}()
	n.logger.Info("admin HTTP listening", "on", ln.Addr().String())
	return a, nil
}

// status gathers the node's Status.
func (n *Node) status() Status {
	f := n.fleet
	st := Status{Status: f.cluster.Status(), Serving: n.serving()}
	if s := f.store.State().Source; s != nil {
		st.Source = s.Spec
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

func (n *Node) serveStatus(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(n.status())
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

var statusPage = template.Must(template.New("status").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>moxi {{.Node}}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}</style>
</head><body>
<h1>moxi node {{.Node}}</h1>
<p>raft: <b>{{.RaftState}}</b>, term {{.Term}}, leader <b>{{.Leader}}</b>, last index {{.LastIndex}}, applied {{.Applied}}; serving: <b>{{.Serving}}</b></p>
<p>source: <code>{{.Source}}</code></p>
<h2>Members</h2>
<table><tr><th>name</th><th>address</th><th>gossip</th><th>raft</th><th>version</th></tr>
{{range .Members}}<tr><td>{{.Name}}</td><td>{{.Addr}}</td><td>{{.Gossip}}</td><td>{{.Role}}</td><td>{{.Version}}</td></tr>
{{end}}</table>
<h2>Maps</h2>
<table><tr><th>port</th><th>bucket</th><th>version</th><th>servers</th><th>source</th><th>applied</th></tr>
{{range .Maps}}<tr><td>{{.Port}}</td><td>{{.Bucket}}</td><td>{{.Version}}</td><td>{{.Servers}}</td><td>{{.Source}}</td><td>{{.AppliedAt.Format "2006-01-02 15:04:05.000"}}</td></tr>
{{end}}</table>
</body></html>
`))

func (n *Node) servePage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = statusPage.Execute(w, n.status())
}
