package memserver

import (
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
)

// connTable numbers listeners and connections, as memcached's file
// descriptors number them in "stats conns", and keeps what that group
// shows: addresses and the time of each connection's last command.
type connTable struct {
	next atomic.Int64
	mu   sync.Mutex
	all  map[int64]*connInfo
}

// connInfo is one listener or client connection.
type connInfo struct {
	id        int64
	addr      string // "tcp:host:port": the listener's own, or the client's
	listen    string // the listener a client came through; "" for a listener
	listening bool
	lastCmd   atomic.Int64 // unix seconds; for a listener, when it opened
	busy      atomic.Bool  // executing a command (conn_parse_cmd)
}

func (t *connTable) add(ci *connInfo, now int64) *connInfo {
	ci.id = t.next.Add(1)
	ci.lastCmd.Store(now)
	t.mu.Lock()
	if t.all == nil {
		t.all = map[int64]*connInfo{}
	}
	t.all[ci.id] = ci
	t.mu.Unlock()
	return ci
}

func (t *connTable) remove(ci *connInfo) {
	t.mu.Lock()
	delete(t.all, ci.id)
	t.mu.Unlock()
}

// snapshot returns the entries in id order.
func (t *connTable) snapshot() []*connInfo {
	t.mu.Lock()
	out := make([]*connInfo, 0, len(t.all))
	for _, ci := range t.all {
		out = append(out, ci)
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b *connInfo) int { return int(a.id - b.id) })
	return out
}

func tcpName(a net.Addr) string { return "tcp:" + a.String() }

// connsStats writes "stats conns". A connection executing a command (the
// asking one, at least) is parsing it; the others wait for input
// (conn_read), as memcached shows them.
func (s *Server) connsStats(sw *statWriter) {
	now := s.cfg.Clock().Unix()
	for _, ci := range s.conns.snapshot() {
		p := strconv.FormatInt(ci.id, 10) + ":"
		sw.s(p+"addr", ci.addr)
		state := "conn_read"
		switch {
		case ci.listening:
			state = "conn_listening"
		case ci.busy.Load():
			state = "conn_parse_cmd"
		}
		if !ci.listening {
			sw.s(p+"listen_addr", ci.listen)
		}
		sw.s(p+"state", state)
		sw.i(p+"secs_since_last_cmd", max(now-ci.lastCmd.Load(), 0))
	}
}
