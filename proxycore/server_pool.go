package proxycore

import (
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moxifleet/moxi/mapstore"
)

// server is one downstream memcached server: a fixed number of connection
// slots, each holding a multiplexed connection opened on first use, plus
// the error count that blacklists the server after repeated failures.
type server struct {
	addr   string // host:port to dial
	host   string // host as configured, cut at the first ':', for replies
	beh    *Behavior
	stats  *counters
	logger *slog.Logger

	mu    sync.Mutex
	slots []*dconn
	// blacklisting state, guarded by mu
	errCount int
	lastErr  time.Time
	closed   bool
}

func newServer(s mapstore.Server, beh *Behavior, stats *counters, lg *slog.Logger) *server {
	n := beh.DownstreamConnMax
	if n <= 0 {
		n = 16 // "unlimited": multiplexed connections rarely need more
	}
	return &server{
		addr:   net.JoinHostPort(s.Host, strconv.Itoa(s.Port)),
		host:   hostForReply(s.Host),
		beh:    beh,
		stats:  stats,
		logger: lg,
		slots:  make([]*dconn, n),
	}
}

// hostForReply is the host as moxi names it in error replies: the config
// hostname cut at the first ':' so that credentials never leak.
func hostForReply(h string) string {
	if i := strings.IndexByte(h, ':'); i >= 0 {
		return h[:i]
	}
	return h
}

// submit queues o on one of the server's connections, opening one when the
// chosen slot is empty or dead. It fails o at once while the server is
// blacklisted. A client always uses the same slot of a server, so that its
// requests to that server stay in the order it sent them (a set followed
// by a get of the same key must not race on two connections).
func (s *server) submit(o *op) {
	o.server = s
	for {
		d, ok := s.pick(o.parent.conn.affinity)
		if !ok {
			s.stats.inc(totDownstreamConnectInterval)
			o.status = opConnectFailed
			o.parent.opDone(o)
			return
		}
		if d.enqueue(o) {
			return
		}
		s.drop(d) // it died between pick and enqueue; pick again
	}
}

func (s *server) pick(affinity uint32) (*dconn, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.blacklisted(time.Now()) {
		return nil, false
	}
	i := int(affinity % uint32(len(s.slots)))
	d := s.slots[i]
	if d == nil || d.isDead() {
		d = newDconn(s)
		s.slots[i] = d
	}
	return d, true
}

// blacklisted reports whether recent connect errors bar new requests.
// Called with mu held.
func (s *server) blacklisted(now time.Time) bool {
	max := s.beh.ConnectMaxErrors
	return max > 0 && s.beh.Cycle > 0 && s.errCount > max &&
		now.Sub(s.lastErr) < s.beh.ConnectRetryInterval
}

func (s *server) drop(d *dconn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.slots {
		if x == d {
			s.slots[i] = nil
		}
	}
}

func (s *server) noteError() {
	s.mu.Lock()
	s.errCount++
	s.lastErr = time.Now()
	s.mu.Unlock()
}

func (s *server) noteConnected() {
	s.mu.Lock()
	s.errCount = 0
	s.mu.Unlock()
}

// close shuts every connection; queued and pending ops fail as closed.
func (s *server) close() {
	s.mu.Lock()
	s.closed = true
	slots := append([]*dconn(nil), s.slots...)
	s.mu.Unlock()
	for _, d := range slots {
		if d != nil {
			d.kill(opClosed)
		}
	}
}
