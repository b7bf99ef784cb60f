package cluster

import (
	"log/slog"
	"net"
	"sync"
	"time"
)

// refusalEvery is how often one peer's refusals of one kind are logged:
// a node without the fleet's key or certificate retries its join, and
// every member probes it, so the same refusal repeats every second.
const refusalEvery = time.Minute

// maxRefusalPeers bounds what refusalLog remembers, so that packets from
// many addresses cannot grow it without end.
const maxRefusalPeers = 1024

// refusalLog logs a peer refused for its key or certificate: the first
// refusal at once, then at most one line per peer, message and reason
// every refusalEvery, saying how many were not logged meanwhile.
type refusalLog struct {
	logger *slog.Logger
	now    func() time.Time

	mu   sync.Mutex
	seen map[refusalKey]*refusalCount
}

type refusalKey struct{ msg, peer, reason string }

type refusalCount struct {
	logged     time.Time
	suppressed int
}

func newRefusalLog(logger *slog.Logger) *refusalLog {
	return &refusalLog{logger: logger, now: time.Now, seen: map[refusalKey]*refusalCount{}}
}

// warn logs msg about peer (an address; its port is dropped, since each
// connection comes from a new one) for reason, unless it was logged
// lately.
func (r *refusalLog) warn(msg, peer, reason string, attrs ...any) {
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	k := refusalKey{msg, peer, reason}
	now := r.now()
	r.mu.Lock()
	c := r.seen[k]
	if c != nil && now.Sub(c.logged) < refusalEvery {
		c.suppressed++
		r.mu.Unlock()
		return
	}
	suppressed := 0
	if c != nil {
		suppressed = c.suppressed
	}
	r.forgetOld(now)
	r.seen[k] = &refusalCount{logged: now}
	r.mu.Unlock()
	args := append([]any{"peer", peer, "reason", reason}, attrs...)
	if suppressed > 0 {
		args = append(args, "repeated", suppressed)
	}
	r.logger.Warn(msg, args...)
}

// forgetOld drops entries past their window once the map is full; r.mu
// is held.
func (r *refusalLog) forgetOld(now time.Time) {
	if len(r.seen) < maxRefusalPeers {
		return
	}
	for k, c := range r.seen {
		if now.Sub(c.logged) >= refusalEvery {
			delete(r.seen, k)
		}
	}
	if len(r.seen) >= maxRefusalPeers {
		clear(r.seen) // all recent: start over rather than grow
	}
}
