package node

import (
	"crypto/subtle"
	"crypto/tls"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/moxifleet/moxi/internal/tlsconf"
)

// Who may read the admin server. /health and /metrics answer anyone: load
// balancers and Prometheus hold no credential, and they show no secret.
// The rest (/status, /status/history, /fleet, the page, pprof) shows the
// fleet's layout, so off loopback it needs one of:
//   - a bearer token: "Authorization: Bearer <the admin_token_file's
//     content>" (every node of a fleet reads the same file, and sends the
//     token when it fetches its peers' /status);
//   - a client certificate verified against admin_tls_ca, or against
//     cluster_tls_ca under cluster TLS (admin_tls.go).
// A node whose admin_listen is not a loopback address and has neither
// refuses to start.

// adminAccess is what the admin server lets in.
type adminAccess struct {
	token []byte      // the bearer token; nil for none
	tls   *tls.Config // the listener's TLS; nil: plain HTTP
	certs bool        // a client certificate verified against a CA lets a request in
}

// loadAdminAccess reads the admin keys' files, with one line naming the
// key for anything wrong, and refuses an exposed admin server with no
// way to check who asks.
func (n *Node) loadAdminAccess() error {
	f := n.own
	var a adminAccess
	if f.AdminTokenFile != "" {
		tok, err := readToken(f.AdminTokenFile)
		if err != nil {
			return err
		}
		a.token = tok
	}
	switch {
	case f.AdminTLS != (tlsconf.Files{}):
		cfg, err := tlsconf.Server(f.AdminTLS)
		if err != nil {
			return fmt.Errorf("-Z admin_tls_cert/admin_tls_key/admin_tls_ca: %w", err)
		}
		a.tls, a.certs = cfg, f.AdminTLS.CA != ""
	case n.fleet != nil && n.fleet.sec.mutual != nil:
		a.tls, a.certs = n.fleet.sec.admin, true
	}
	addr := f.Admin
	if addr == "" && n.fleet != nil {
		addr = DefaultAdminListen
	}
	if addr != "" && !isLoopbackAddr(addr) && a.token == nil && !a.certs {
		return fmt.Errorf("-Z admin_listen=%s is not a loopback address: set admin_token_file, or admin_tls_* with admin_tls_ca (or cluster_tls_*), so that only who holds them reads the status", addr)
	}
	n.admin = a
	return nil
}

// readToken reads a token file: its content, spaces trimmed, not empty.
func readToken(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-Z admin_token_file %s: %w", path, pathCause(err))
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" {
		return nil, fmt.Errorf("-Z admin_token_file %s: the file is empty", path)
	}
	return []byte(tok), nil
}

// isLoopbackAddr reports whether HOST:PORT binds loopback only; an empty
// or unspecified host binds every address.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// guard lets /health and /metrics through, and the rest when the access
// rules in force let the request in (everything, when there are none:
// loopback).
func (a adminAccess) guard(next http.Handler) http.Handler {
	if a.token == nil && !a.certs {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" || r.URL.Path == "/metrics" || a.allows(r) {
			next.ServeHTTP(w, r)
			return
		}
		if a.token == nil { // only a certificate would do: no credential to ask for
			http.Error(w, a.refusal(), http.StatusForbidden)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="moxi"`)
		http.Error(w, a.refusal(), http.StatusUnauthorized)
	})
}

func (a adminAccess) allows(r *http.Request) bool {
	if a.certs && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return true
	}
	if a.token == nil {
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), a.token) == 1
}

func (a adminAccess) refusal() string {
	switch {
	case a.token != nil && a.certs:
		return "a bearer token (admin_token_file) or a client certificate of the fleet's CA is required"
	case a.token != nil:
		return "a bearer token (admin_token_file) is required"
	}
	return "a client certificate signed by the CA is required"
}

// tokenTransport adds the bearer token to a node's requests for its
// peers' /status.
type tokenTransport struct {
	token []byte
	next  http.RoundTripper
}

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(t.token))
	return t.next.RoundTrip(r)
}

// newAdminHTTP is the admin http.Server, with conservative timeouts: a
// client that sends its headers slowly, never finishes a request or
// keeps an idle connection open is dropped, so a few such clients cannot
// hold the admin server's goroutines and buffers. Every request is a GET
// without a body; the longest answer is a pprof CPU profile (30 s by
// default), which the write timeout leaves room for.
func newAdminHTTP(h http.Handler, errLog *log.Logger) *http.Server {
	return &http.Server{Handler: h, ErrorLog: errLog,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 2 * time.Minute, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
}
