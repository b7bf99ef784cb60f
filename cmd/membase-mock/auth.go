package main

import (
	"crypto/subtle"
	"net/http"
)

// same compares secrets in constant time.
func same(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// isAdmin reports whether r carries the -admin-user/-admin-password
// basic-auth credentials.
func (m *mock) isAdmin(r *http.Request) bool {
	u, p, ok := r.BasicAuth()
	return ok && same(u, m.cfg.adminUser) && same(p, m.cfg.adminPassword)
}

// mayRead reports whether r may read b's config: anyone when b has no
// password (as membase's default bucket), else the bucket's own
// credentials (name + saslPassword) or the admin's.
func (m *mock) mayRead(r *http.Request, b *bucket) bool {
	if b.spec.password == "" {
		return true
	}
	u, p, ok := r.BasicAuth()
	return ok && same(u, b.spec.name) && same(p, b.spec.password) || m.isAdmin(r)
}

// unauthorized answers 401 with the challenge ns_server sends.
func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="Couchbase Server Admin / REST"`)
	w.WriteHeader(http.StatusUnauthorized)
}
