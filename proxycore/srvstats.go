package proxycore

import (
	"sync/atomic"
	"time"
)

// serverStats is one server's exchanges, for Prometheus and the status
// page: atomics a downstream reader adds to as each exchange ends (no
// lock, no allocation). A server's text twin shares its parent's.
type serverStats struct {
	requests, errors, timeouts, refused atomic.Uint64
	conns                               atomic.Int64
	latency                             latencyHist
}

// noteOp counts an exchange that has just ended: its latency from write
// to reply when the server answered, its failure otherwise.
func (s *serverStats) noteOp(o *op) {
	s.requests.Add(1)
	switch o.status {
	case opOK:
		if !o.sentAt.IsZero() {
			s.latency.observe(time.Since(o.sentAt))
		}
	case opTimeout:
		s.timeouts.Add(1)
		s.errors.Add(1)
	default:
		s.errors.Add(1)
	}
}

// sample reads the server's statistics for an exporter.
func (s *downstream) sample(port int, bucket string) ServerSample {
	st := s.ss
	s.mu.Lock()
	blacklisted := s.blacklisted(time.Now())
	s.mu.Unlock()
	return ServerSample{
		Port: port, Bucket: bucket, Addr: s.addr,
		Requests: st.requests.Load(), Errors: st.errors.Load(), Timeouts: st.timeouts.Load(),
		Refused: st.refused.Load(), Blacklisted: blacklisted, Conns: st.conns.Load(),
		Latency: st.latency.snapshot(),
	}
}
