package proxycore

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/netserve"
)

// Server is the proxy for every configured bucket.
type Server struct {
	cfg     Config
	deps    Deps
	logger  *slog.Logger
	buckets atomic.Pointer[[]*bucket] // see allBuckets
	bmu     sync.Mutex                // serializes ApplyPool's changes to buckets
	byPort  map[int]*bucket           // the bucket that owns each listener
	poolCfg map[int]*Pool             // ports whose buckets ApplyPool sets
	null    *bucket                   // the NULL bucket: no servers, auth required
	net     *netserve.Server
	started time.Time
	// nextAffinity spreads clients over servers' connection slots.
	nextAffinity atomic.Uint32
	seed         maphash.Seed // for multi-get de-duplication tables
	pools        *pools
}

// New validates cfg and returns a Server ready to Serve.
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.Logger == nil {
		return nil, errors.New("proxycore: a logger is required")
	}
	if cfg.MaxItemSize <= 0 {
		cfg.MaxItemSize = ascii.DefaultMaxItemSize
	}
	s := &Server{
		cfg: cfg, deps: deps, logger: deps.Logger,
		byPort:  make(map[int]*bucket),
		poolCfg: make(map[int]*Pool),
		started: time.Now(),
		seed:    maphash.MakeSeed(),
		pools:   newPools(),
	}
	if err := s.addBuckets(cfg.Buckets, cfg.Pools); err != nil {
		return nil, err
	}
	s.net = &netserve.Server{Logger: deps.Logger, MaxConns: cfg.MaxConns, Reject: []byte(TooManyConns)}
	return s, nil
}

// TooManyConns is memcached's answer to a connection over -c, sent
// before it closes it.
const TooManyConns = "ERROR Too many open connections\r\n"

// RejectedConns is how many client connections -c turned away.
func (s *Server) RejectedConns() uint64 { return s.net.Rejected() }

// Serve accepts clients on ln for the bucket configured on port, until
// Shutdown. It returns netserve.ErrServerClosed after Shutdown.
func (s *Server) Serve(port int, ln net.Listener) error {
	b, ok := s.byPort[port]
	if !ok && s.poolCfg[port] == nil {
		_ = ln.Close()
		return fmt.Errorf("proxycore: no bucket configured on port %d", port)
	}
	return s.net.ServeFunc(ln, func(ctx context.Context, c net.Conn) { s.serveClient(ctx, port, b, c) })
}

// Shutdown stops accepting, lets clients finish the requests they have
// sent until ctx ends, then closes every client and server connection.
// Server connections are closed as soon as ctx ends, not after the
// clients are gone: that fails the exchanges still in flight (a server
// that never answers), which is what lets those clients' handlers return.
func (s *Server) Shutdown(ctx context.Context) error {
	stop := context.AfterFunc(ctx, s.closeBuckets)
	defer stop()
	err := s.net.Shutdown(ctx)
	s.closeBuckets()
	return err
}

func (s *Server) closeBuckets() {
	for _, b := range s.allBuckets() {
		b.close()
	}
}

// logCommand logs a client command at -vv, as moxi's "<fd cmd" lines.
func (s *Server) logCommand(cc *clientConn, cmd *ascii.Request) {
	if s.logger.Enabled(context.Background(), slog.LevelDebug) {
		s.logger.Debug("<"+cc.c.RemoteAddr().String()+" "+string(cmd.Line), "port", cc.b.cfg.Port)
	}
}
