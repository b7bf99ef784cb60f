package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// mock is the running pretend cluster: the REST server and the cluster
// behind it.
type mock struct {
	cfg      config
	log      *slog.Logger
	ctr      *counters
	cl       *cluster
	ln       net.Listener
	srv      *http.Server
	restHost string // "<-host>:<rest port>", every node's hostname
	drops    streamDrops

	// ctx ends streams and rebalances when the mock stops.
	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
}

// newMock listens on the REST address and starts the data nodes, from
// the -state file when it exists. serve then answers REST requests.
func newMock(cfg config, log *slog.Logger) (*mock, error) {
	var saved *savedState
	if cfg.statePath != "" {
		var err error
		if saved, err = loadState(cfg.statePath); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", cfg.restAddr)
	if err != nil {
		return nil, fmt.Errorf("rest listener: %w", err)
	}
	m := &mock{cfg: cfg, log: log, ctr: &counters{}, ln: ln,
		restHost: net.JoinHostPort(cfg.host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	if m.cl, err = newCluster(cfg, saved, m.ctr, log); err != nil {
		m.cancel()
		_ = ln.Close()
		return nil, err
	}
	if saved != nil {
		log.Info("cluster restored", "state", cfg.statePath, "map_version", saved.MapVersion)
	}
	m.srv = &http.Server{Handler: m.routes(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	return m, nil
}

// serve answers REST requests until close.
func (m *mock) serve() error {
	if err := m.srv.Serve(m.ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("rest server: %w", err)
	}
	return nil
}

// restURL is the REST base URL.
func (m *mock) restURL() string { return "http://" + m.ln.Addr().String() }

// announce prints one line per listener and what to run against them,
// for a newcomer and for tests that start the binary.
func (m *mock) announce(w io.Writer) {
	fmt.Fprintf(w, "rest %s (admin %s:%s)\n", m.restURL(), m.cfg.adminUser, m.cfg.adminPassword)
	m.cl.mu.Lock()
	for _, id := range m.cl.serverList {
		fmt.Fprintf(w, "node %d %s\n", id, m.cl.nodes[id].addr())
	}
	m.cl.mu.Unlock()
	for _, b := range m.cl.buckets {
		url := m.restURL() + "/pools/default/bucketsStreamingConfig/" + b.spec.name
		if b.spec.password == "" {
			fmt.Fprintf(w, "bucket %s moxi -z %s\n", b.spec.name, url)
		} else {
			fmt.Fprintf(w, "bucket %s moxi -z 'auth=%s%%%s,url=%s'\n", b.spec.name, b.spec.name, b.spec.password, url)
		}
	}
	fmt.Fprintf(w, "admin curl -X POST '%s/mock/rebalance?nodes=%d'  (also /mock/failover?node=ID, /mock/status)\n",
		m.restURL(), len(m.cl.serverList)+1)
}

// close ends the streams, stops a running rebalance where it is, and
// shuts everything down.
func (m *mock) close() { m.closeOnce.Do(m.shutdown) }

func (m *mock) shutdown() {
	m.cancel()
	m.cl.mu.Lock()
	reb := m.cl.reb
	m.cl.mu.Unlock()
	if reb != nil {
		<-reb.done
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.srv.Shutdown(ctx); err != nil {
		m.log.Warn("rest shutdown", "err", err)
	}
	m.cl.close()
}
