package proxycore

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/moxifleet/moxi/proxycore/ascii"
	"github.com/moxifleet/moxi/proxycore/netserve"
)

// Server is the proxy for every configured bucket.
type Server struct {
	cfg     Config
	deps    Deps
	logger  *slog.Logger
	buckets map[int]*bucket
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
		buckets: make(map[int]*bucket),
		started: time.Now(),
		seed:    maphash.MakeSeed(),
		pools:   newPools(),
	}
	for _, bc := range cfg.Buckets {
		if bc.Maps == nil {
			return nil, fmt.Errorf("proxycore: bucket %q on port %d has no map source", bc.Name, bc.Port)
		}
		if _, dup := s.buckets[bc.Port]; dup {
			return nil, fmt.Errorf("proxycore: port %d configured twice", bc.Port)
		}
		s.buckets[bc.Port] = newBucket(bc, cfg.Threads, deps.Logger.With("port", bc.Port, "bucket", bc.Name))
	}
	s.net = &netserve.Server{Logger: deps.Logger}
	return s, nil
}

// Serve accepts clients on ln for the bucket configured on port, until
// Shutdown. It returns netserve.ErrServerClosed after Shutdown.
func (s *Server) Serve(port int, ln net.Listener) error {
	b, ok := s.buckets[port]
	if !ok {
		_ = ln.Close()
		return fmt.Errorf("proxycore: no bucket configured on port %d", port)
	}
	return s.net.ServeFunc(ln, func(ctx context.Context, c net.Conn) { s.serveClient(ctx, b, c) })
}

// Shutdown stops accepting, lets clients finish the requests they have
// sent until ctx ends, then closes every client and server connection.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.net.Shutdown(ctx)
	for _, b := range s.buckets {
		b.close()
	}
	return err
}

// logCommand logs a client command at -vv, as moxi's "<fd cmd" lines.
func (s *Server) logCommand(cc *clientConn, cmd *ascii.Request) {
	if s.logger.Enabled(context.Background(), slog.LevelDebug) {
		s.logger.Debug("<"+cc.c.RemoteAddr().String()+" "+string(cmd.Line), "port", cc.b.cfg.Port)
	}
}
