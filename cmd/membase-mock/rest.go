package main

import (
	"encoding/json"
	"net/http"
)

// routes is the REST API: ns_server's config URLs, then the mock's own
// admin API under /mock/ (admin.go).
func (m *mock) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pools", m.handlePools)
	mux.HandleFunc("GET /pools/default", m.handlePool)
	mux.HandleFunc("GET /pools/default/buckets", m.handleBucketList)
	mux.HandleFunc("GET /pools/default/buckets/{bucket}", m.handleBucket)
	mux.HandleFunc("GET /pools/default/bucketsStreaming/{bucket}", m.handleBucketStream(false))
	mux.HandleFunc("GET /pools/default/bucketsStreamingConfig/{bucket}", m.handleBucketStream(true))
	mux.HandleFunc("GET /pools/default/saslBucketsStreaming", m.handleSASLBuckets)
	mux.HandleFunc("GET /mock/stats", m.handleStats)
	mux.HandleFunc("GET /mock/status", m.handleStatus)
	mux.HandleFunc("POST /mock/rebalance", m.handleRebalance)
	mux.HandleFunc("POST /mock/failover", m.handleFailover)
	mux.HandleFunc("POST /mock/kill-node", m.handleListener(false))
	mux.HandleFunc("POST /mock/start-node", m.handleListener(true))
	mux.HandleFunc("POST /mock/drop-streams", m.handleDropStreams)
	return mux
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	setJSONHeaders(w)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// bucketFor resolves the {bucket} of r, answering 404 or 401 itself
// when the bucket is unknown or the credentials do not open it.
func (m *mock) bucketFor(w http.ResponseWriter, r *http.Request) *bucket {
	b := m.cl.bucketNamed(r.PathValue("bucket"))
	switch {
	case b == nil:
		http.Error(w, "Requested resource not found.", http.StatusNotFound)
		return nil
	case !m.mayRead(r, b):
		unauthorized(w)
		return nil
	}
	return b
}

// handlePools is GET /pools: where the pools are.
func (m *mock) handlePools(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"pools": []map[string]string{{"name": "default", "uri": "/pools/default",
			"streamingUri": "/poolsStreaming/default"}},
		"isAdminCreds":          m.isAdmin(r),
		"implementationVersion": mockVersion,
		"componentsVersion":     map[string]string{"ns_server": mockVersion},
	})
}

// handlePool is GET /pools/default: the nodes and where the buckets are.
func (m *mock) handlePool(w http.ResponseWriter, r *http.Request) {
	m.cl.mu.Lock()
	nodes := m.cl.nodesViewLocked(m.restHost)
	m.cl.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"name": "default", "nodes": nodes,
		"buckets": uriJSON{"/pools/default/buckets"},
		"stats":   uriJSON{"/pools/default/stats"},
	})
}

// handleBucketList is GET /pools/default/buckets: the buckets r may read.
func (m *mock) handleBucketList(w http.ResponseWriter, r *http.Request) {
	m.ctr.configRequests.Add(1)
	out := []json.RawMessage{}
	for _, b := range m.cl.buckets {
		if m.mayRead(r, b) {
			out = append(out, m.cl.renderBucket(b, m.restHost, false).body)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// handleBucket is GET /pools/default/buckets/{bucket}: one config, then
// the response ends.
func (m *mock) handleBucket(w http.ResponseWriter, r *http.Request) {
	b := m.bucketFor(w, r)
	if b == nil {
		return
	}
	m.ctr.configRequests.Add(1)
	setJSONHeaders(w)
	_, _ = w.Write(m.cl.renderBucket(b, m.restHost, false).body)
}

// handleBucketStream serves bucketsStreaming (stable false) and the
// membase 1.6 bucketsStreamingConfig (stable true: no basicStats).
func (m *mock) handleBucketStream(stable bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b := m.bucketFor(w, r)
		if b == nil {
			return
		}
		m.stream(w, r, func() rendering { return m.cl.renderBucket(b, m.restHost, stable) })
	}
}

// handleSASLBuckets is saslBucketsStreaming: every bucket with its
// password, for the admin only (moxi as a gateway for all buckets).
func (m *mock) handleSASLBuckets(w http.ResponseWriter, r *http.Request) {
	if !m.isAdmin(r) {
		unauthorized(w)
		return
	}
	m.stream(w, r, func() rendering { return m.cl.renderBuckets(m.restHost) })
}
