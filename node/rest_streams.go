package node

import (
	"sync"

	"github.com/moxifleet/moxi/cluster/restconfig"
)

// streamMeter sums the REST config clients' stream counters for /metrics
// (moxi_rest_reconnects_total, moxi_rest_stream_up). The clients count
// with atomics as they stream; the meter only knows which ones run. A
// standalone proxy's clients run as long as it does, but a fleet leader
// makes new ones each time it starts leading and drops them when it
// stops, so what a stopped client counted is kept in retired: the total
// never goes back. The zero value is ready to use.
type streamMeter struct {
	mu      sync.Mutex
	running map[*restconfig.Client]struct{}
	retired uint64 // reconnects of the clients that stopped
}

// track counts c's streams from now on; the returned function, called
// once c's Run has returned for good, keeps its reconnects and stops
// asking it whether it is connected.
func (m *streamMeter) track(c *restconfig.Client) (untrack func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.running == nil {
		m.running = map[*restconfig.Client]struct{}{}
	}
	m.running[c] = struct{}{}
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if _, ok := m.running[c]; ok {
			delete(m.running, c)
			m.retired += c.Stats().Reconnects
		}
	}
}

// sample returns the reconnects of every client this node has run and how
// many streams are open now (one per -z REST section at most).
func (m *streamMeter) sample() (reconnects uint64, up int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	reconnects = m.retired
	for c := range m.running {
		st := c.Stats()
		reconnects += st.Reconnects
		if st.Connected {
			up++
		}
	}
	return reconnects, up
}
