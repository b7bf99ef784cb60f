package restconfig

import (
	"sync"
	"sync/atomic"
)

// Stats is a snapshot of a Client's counters, for observability and tests.
type Stats struct {
	Connects     uint64 // 200 responses whose body was read
	Reconnects   uint64 // Connects after the first: streams re-opened, on any URL of the list
	Configs      uint64 // messages the Handler accepted
	BadConfigs   uint64 // messages the Handler rejected, or too large
	EmptyConfigs uint64 // transfers that ended with an empty remainder
	Failovers    uint64 // moves to the next URL of a pass after a failure
	CurrentURL   string // the URL being fetched, or the last one
	Connected    bool   // a 200 response body is being read now
}

// counters is the live form of Stats. Run's goroutine writes it while
// Stats may be called from anywhere, hence atomics and a mutex.
type counters struct {
	connects, reconnects, configs, badConfigs, emptyConfigs, failovers atomic.Uint64
	connected                                                          atomic.Bool

	mu         sync.Mutex
	currentURL string
}

func (s *counters) setURL(u string) {
	s.mu.Lock()
	s.currentURL = u
	s.mu.Unlock()
}

func (s *counters) snapshot() Stats {
	s.mu.Lock()
	u := s.currentURL
	s.mu.Unlock()
	return Stats{
		Connects:     s.connects.Load(),
		Reconnects:   s.reconnects.Load(),
		Configs:      s.configs.Load(),
		BadConfigs:   s.badConfigs.Load(),
		EmptyConfigs: s.emptyConfigs.Load(),
		Failovers:    s.failovers.Load(),
		CurrentURL:   u,
		Connected:    s.connected.Load(),
	}
}
