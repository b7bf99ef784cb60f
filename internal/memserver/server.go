package memserver

import (
	"context"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/netserve"
)

// DefaultMaxBytes is memcached's default -m 64.
const DefaultMaxBytes = 64 << 20

// Config configures the built-in server.
type Config struct {
	MaxBytes    int64        // -m, in bytes; memory for item keys and values
	MaxItemSize int          // -I, largest value accepted
	NoEvict     bool         // -M: return an error instead of evicting
	Version     string       // the reply to "version"
	Logger      *slog.Logger // never nil
	// Protocol is memcached's -B: "auto" (or empty) picks per connection
	// by the first byte, 0x80 meaning binary; "ascii" and "binary" force
	// one. Any other value counts as "auto".
	Protocol string
	// Clock returns the current time; nil means time.Now. Tests inject a
	// fake clock to exercise expiry.
	Clock func() time.Time
	// VBucketFilter makes the server act as one data node of a membase
	// cluster: a binary request for a key whose vbucket id (header bytes
	// 6-7) the filter rejects is answered NOT_MY_VBUCKET instead of being
	// served, so that a vbucket-aware client learns its map is stale. Nil
	// serves every vbucket, as memcached does. Text and meta requests
	// carry no vbucket id and are always served. It is called on the
	// connection's goroutine and must be safe for concurrent use.
	VBucketFilter func(vb uint16) bool
	// MaxConns is -c, shown as max_connections; 0 means memcached's 1024.
	MaxConns int
}

// Server serves the memcached protocol from an in-memory store.
type Server struct {
	cfg     Config
	store   *store
	ns      netserve.Server
	started time.Time

	verbosity  atomic.Uint32
	currConns  atomic.Int64
	totalConns atomic.Uint64
	conns      connTable // for "stats conns"
	// traffic and meta command counts for "stats"
	bytesRead, bytesWritten, cmdMeta atomic.Uint64
}

// New returns a Server with an empty store. Zero MaxBytes and MaxItemSize
// take memcached's defaults (64 MB, 1 MB).
func New(cfg Config) *Server {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxItemSize <= 0 {
		cfg.MaxItemSize = ascii.DefaultMaxItemSize
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 1024
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, started: cfg.Clock()}
	s.store = newStore(cfg.MaxBytes, cfg.NoEvict, cfg.Clock)
	s.store.maxItem = int64(cfg.MaxItemSize)
	s.ns = netserve.Server{Handler: s.serveConn, Logger: cfg.Logger, MaxConns: cfg.MaxConns,
		Reject: []byte("ERROR Too many open connections\r\n")}
	return s
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	ci := s.conns.add(&connInfo{addr: tcpName(ln.Addr()), listening: true}, s.cfg.Clock().Unix())
	defer s.conns.remove(ci)
	return s.ns.Serve(ln)
}

// Shutdown stops accepting and waits for connections to finish their
// current request, or for ctx to end.
func (s *Server) Shutdown(ctx context.Context) error { return s.ns.Shutdown(ctx) }

// Stats is a summary of the store for monitoring and tests.
type Stats struct {
	CurrItems        int
	Bytes            int64
	TotalItems       uint64
	Evictions        uint64
	CurrConnections  int64
	TotalConnections uint64
}

// Stats returns the current counters.
func (s *Server) Stats() Stats {
	st, items, bytes := s.store.stats()
	return Stats{
		CurrItems:        items,
		Bytes:            bytes,
		TotalItems:       st.totalItems,
		Evictions:        st.evictions,
		CurrConnections:  s.currConns.Load(),
		TotalConnections: s.totalConns.Load(),
	}
}
