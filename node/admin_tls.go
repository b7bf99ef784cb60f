package node

import (
	"bytes"
	"crypto/tls"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
)

// The admin server under cluster TLS.
//
// With cluster_tls_* set, the admin listener speaks HTTPS with the node's
// certificate and checks a client certificate against cluster_tls_ca
// when one is given. /health and /metrics answer anyone (load balancers
// and Prometheus hold no fleet certificate, and they show no secret);
// everything else (/status, /status/history, /fleet, the page, pprof)
// answers only a client whose certificate the fleet's CA signed: the
// other nodes fetching /status for /fleet, and operators given such a
// certificate (moxi status -cert/-key/-ca). Without cluster TLS the
// admin server is plain HTTP, as before, on loopback by default.
//
// A handshake-level requirement (tls.RequireAndVerifyClientCert) would
// have closed /health and /metrics too; checking per request keeps them
// open and leaves room for an admin token as the other way in.

// secureAdmin wraps the admin listener and handler in cluster TLS, when
// it is on.
func (n *Node) secureAdmin(ln net.Listener, h http.Handler) (net.Listener, http.Handler) {
	cfg := n.adminTLS()
	if cfg == nil {
		return ln, h
	}
	n.logger.Info("admin HTTP speaks HTTPS: all but /health and /metrics need a client certificate of cluster_tls_ca")
	return tls.NewListener(ln, cfg), requirePeerCert(h)
}

// adminTLS is the admin listener's TLS, nil without cluster TLS (or
// without a node: statusViews made by tests have none).
func (n *Node) adminTLS() *tls.Config {
	if n == nil || n.fleet == nil || n.fleet.sec.mutual == nil {
		return nil
	}
	return n.fleet.sec.admin
}

// requirePeerCert lets /health and /metrics through, and the rest only
// with a client certificate verified against cluster_tls_ca.
func requirePeerCert(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		open := r.URL.Path == "/health" || r.URL.Path == "/metrics"
		if open || r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
			next.ServeHTTP(w, r)
			return
		}
		http.Error(w, "a client certificate signed by cluster_tls_ca is required", http.StatusForbidden)
	})
}

// peerClient is the client /fleet fetches the peers' /status with: over
// HTTPS with this node's certificate when cluster TLS is on.
func (n *Node) peerClient() *http.Client {
	c := &http.Client{Timeout: peerTimeout}
	if n.adminTLS() != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = n.fleet.sec.mutual.Client
		c.Transport = tr
	}
	return c
}

// adminScheme is the peers' admin scheme: under cluster TLS every node's
// admin server speaks HTTPS.
func (n *Node) adminScheme() string {
	if n.adminTLS() != nil {
		return "https"
	}
	return "http"
}

// withAdminScheme puts the peers' scheme on a peerAdminURL.
func (n *Node) withAdminScheme(base string) string {
	if rest, ok := strings.CutPrefix(base, "http://"); ok {
		return n.adminScheme() + "://" + rest
	}
	return base
}

// adminErrorLog is the admin http.Server's ErrorLog: its lines (a TLS
// handshake a client without the fleet's certificate failed, every time
// it tries) go to slog at debug, not to stderr past the log format.
func (n *Node) adminErrorLog() *log.Logger {
	return log.New(debugWriter{n.logger}, "", 0)
}

type debugWriter struct{ logger *slog.Logger }

func (d debugWriter) Write(p []byte) (int, error) {
	d.logger.Debug(string(bytes.TrimRight(p, "\n")), "lib", "net/http")
	return len(p), nil
}
