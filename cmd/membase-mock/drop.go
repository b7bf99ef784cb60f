package main

import (
	"net/http"
	"sync"
)

// streamDrops lets POST /mock/drop-streams end every open stream at
// once, the way ns_server ends them when it restarts its REST service or
// a load balancer cuts idle connections, so tests can count a client's
// reconnects without killing the mock (and its data nodes). The zero
// value is ready to use.
type streamDrops struct {
	mu sync.Mutex
	ch chan struct{} // closed by the next drop
}

// signal returns the channel the next drop closes; a stream takes it
// when it starts.
func (d *streamDrops) signal() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ch == nil {
		d.ch = make(chan struct{})
	}
	return d.ch
}

// drop ends the streams open now; later ones wait for the next drop.
func (d *streamDrops) drop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ch != nil {
		close(d.ch)
	}
	d.ch = make(chan struct{})
}

// handleDropStreams is POST /mock/drop-streams: every open stream ends
// normally (its last chunk sent, as when ns_server closes it) and the
// reply says how many were open.
func (m *mock) handleDropStreams(w http.ResponseWriter, r *http.Request) {
	open := m.ctr.streamsOpen.Load()
	m.drops.drop()
	writeJSON(w, http.StatusOK, map[string]any{"dropped": open})
}
