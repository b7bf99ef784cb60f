package proxycore

import (
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moxifleet/moxi/mapstore"
)

// downstream is one memcached server the proxy sends to (Server is the
// proxy): a fixed number of connection slots, each holding a multiplexed
// connection opened on first use, plus the error count that blacklists
// the server after repeated failures.
type downstream struct {
	addr  string // host:port to dial
	host  string // host as configured, cut at the first ':', for replies
	codec codec  // the protocol its connections speak
	usr   string // SASL PLAIN login for new connections; "" for none
	pwd   string
	beh   *Behavior
	stats *counters
	ss    *serverStats // this server's own, shared with its text twin
	// cacheGen moves on when a new map moves keys to or from the server:
	// front cache entries it sent before are no longer served. Shared
	// with its text twin.
	cacheGen *atomic.Uint64
	logger   *slog.Logger

	mu    sync.Mutex
	slots []atomic.Pointer[dconn] // stored under mu, loaded without it
	// blacklisting state, guarded by mu
	errCount int
	lastErr  time.Time
	closed   bool
	text     *downstream // the same server over text, for commands binary cannot carry; guarded by mu
}

func newDownstream(s mapstore.Server, beh *Behavior, stats *counters, lg *slog.Logger) *downstream {
	return &downstream{
		usr:      beh.Usr,
		pwd:      beh.Pwd,
		addr:     net.JoinHostPort(s.Host, strconv.Itoa(s.Port)),
		host:     hostForReply(s.Host),
		codec:    codecFor(beh.DownstreamProtocol),
		beh:      beh,
		stats:    stats,
		ss:       new(serverStats),
		cacheGen: new(atomic.Uint64),
		logger:   lg,
		slots:    make([]atomic.Pointer[dconn], connSlots(beh.DownstreamConnMax, runtime.GOMAXPROCS(0))),
	}
}

// connSlots is how many connections a server gets: downstream_conn_max,
// but no more than one per two cores. Every connection is multiplexed, so
// one connection already carries any number of concurrent requests; more
// connections only split the queue and shrink the batches each write and
// read carries (on two cores one connection per server measured about 20%
// more throughput than four). Zero means "no limit": one per two cores.
func connSlots(connMax, cores int) int {
	n := max(1, cores/2)
	if connMax > 0 {
		n = min(n, connMax)
	}
	return n
}

// hostForReply is the host as moxi names it in error replies: the config
// hostname cut at the first ':' so that credentials never leak.
func hostForReply(h string) string {
	if i := strings.IndexByte(h, ':'); i >= 0 {
		return h[:i]
	}
	return h
}

// submit queues o on one of the server's connections and, when that
// makes this goroutine the connection's writer, writes it at once. The
// request path uses queue and flushClaimed instead, to batch.
func (s *downstream) submit(o *op) {
	if d := s.queue(o); d != nil {
		d.writeQueued()
	}
}

// queue puts o on one of the server's connections, opening one when the
// chosen slot is empty or dead; it fails o at once while the server is
// blacklisted. A client always uses the same slot of a server, so that its
// requests to that server stay in the order it sent them (a set followed
// by a get of the same key must not race on two connections). When queue
// returns a connection, the caller owns its write side and must call its
// writeQueued.
func (s *downstream) queue(o *op) *dconn {
	o.server = s
	i := int(o.parent.conn.affinity % uint32(len(s.slots)))
	if d := s.slots[i].Load(); d != nil {
		if ok, claimed := d.enqueue(o); ok {
			return claimedConn(d, claimed)
		}
	}
	for {
		d, ok := s.pick(i)
		if !ok {
			s.stats.inc(totDownstreamConnectInterval)
			s.ss.refused.Add(1)
			o.status = opConnectFailed
			o.parent.opDone(o)
			return nil
		}
		if ok, claimed := d.enqueue(o); ok {
			return claimedConn(d, claimed)
		}
		s.drop(d) // it died between pick and enqueue; pick again
	}
}

func claimedConn(d *dconn, claimed bool) *dconn {
	if claimed {
		return d
	}
	return nil
}

// pick returns the connection in slot i, opening a new one when the slot
// is empty or dead, unless the server is blacklisted.
func (s *downstream) pick(i int) (*dconn, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.slots[i].Load()
	if d != nil && !d.isDead() {
		return d, true
	}
	if s.closed || s.blacklisted(time.Now()) {
		return nil, false
	}
	d = newDconn(s)
	s.slots[i].Store(d)
	return d, true
}

// blacklisted reports whether recent connect errors bar new requests.
// Called with mu held.
func (s *downstream) blacklisted(now time.Time) bool {
	max := s.beh.ConnectMaxErrors
	return max > 0 && s.beh.Cycle > 0 && s.errCount > max &&
		now.Sub(s.lastErr) < s.beh.ConnectRetryInterval
}

func (s *downstream) drop(d *dconn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.slots {
		s.slots[i].CompareAndSwap(d, nil)
	}
}

func (s *downstream) noteError() {
	s.mu.Lock()
	s.errCount++
	s.lastErr = time.Now()
	s.mu.Unlock()
}

func (s *downstream) noteConnected() {
	s.mu.Lock()
	s.errCount = 0
	s.mu.Unlock()
}

// speaksBinary reports whether the server's connections speak binary.
func (s *downstream) speaksBinary() bool { return s.codec.protocol() == ProtocolBinary }

// textTwin returns the server's text twin, made on first use: the same
// address with its own text connections (see text_route.go).
func (s *downstream) textTwin() *downstream {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.text == nil {
		s.text = &downstream{addr: s.addr, host: s.host, usr: s.usr, pwd: s.pwd, beh: s.beh, codec: textCodec{},
			stats: s.stats, ss: s.ss, cacheGen: s.cacheGen, logger: s.logger, slots: make([]atomic.Pointer[dconn], len(s.slots)),
			closed: s.closed}
	}
	return s.text
}

// close shuts every connection; queued and pending ops fail as closed.
func (s *downstream) close() {
	s.mu.Lock()
	text := s.text
	s.closed = true
	var open []*dconn
	for i := range s.slots {
		if d := s.slots[i].Load(); d != nil {
			open = append(open, d)
		}
	}
	s.mu.Unlock()
	for _, d := range open {
		d.kill(opClosed)
	}
	if text != nil {
		text.close()
	}
}
