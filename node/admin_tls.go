package node

import (
	"bytes"
	"crypto/tls"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/moxifleet/moxi/internal/tlsconf"
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

// secureAdmin wraps the admin listener in its TLS (cluster TLS's, or
// admin_tls_*'s) and the handler in the access rules (admin_auth.go).
func (n *Node) secureAdmin(ln net.Listener, h http.Handler) (net.Listener, http.Handler) {
	a := n.admin
	if a.tls != nil {
		n.logger.Info("admin HTTP speaks HTTPS")
		ln = tls.NewListener(ln, a.tls)
	}
	if a.token != nil || a.certs {
		n.logger.Info("admin HTTP: all but /health and /metrics need " + strings.TrimSuffix(strings.TrimPrefix(a.refusal(), "a "), " is required"))
	}
	return ln, a.guard(h)
}

// adminTLS is the admin listener's TLS, nil for plain HTTP (or without a
// node: statusViews made by tests have none).
func (n *Node) adminTLS() *tls.Config {
	if n == nil {
		return nil
	}
	return n.admin.tls
}

// peerClient is the client /fleet fetches the peers' /status with: over
// HTTPS when the admin servers speak it, with this node's certificate
// under cluster TLS, and with the bearer token when there is one.
func (n *Node) peerClient() *http.Client {
	c := &http.Client{Timeout: peerTimeout}
	if n == nil {
		return c
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if n.adminTLS() != nil {
		tr.TLSClientConfig = n.peerTLS()
	}
	c.Transport = tr
	if n.admin.token != nil {
		c.Transport = tokenTransport{token: n.admin.token, next: tr}
	}
	return c
}

// peerTLS is how a node checks its peers' admin servers: cluster TLS's
// mutual client, or a client of admin_tls_* (the peers' certificate
// chained to admin_tls_ca, this node's own presented).
func (n *Node) peerTLS() *tls.Config {
	if n.fleet != nil && n.fleet.sec.mutual != nil {
		return n.fleet.sec.mutual.Client
	}
	f := n.own.AdminTLS
	if f.CA == "" {
		return &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if _, client, err := tlsconf.Mutual(f); err == nil {
		return client
	}
	return &tls.Config{MinVersion: tls.VersionTLS12}
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
