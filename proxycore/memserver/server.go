package memserver

import (
	"context"
	"log/slog"
	"net"
)

// Config configures the built-in server.
type Config struct {
	MaxBytes    int64        // -m, in bytes; memory for item keys and values
	MaxItemSize int          // -I, largest value accepted
	NoEvict     bool         // -M: return an error instead of evicting
	Version     string       // the reply to "version"
	Logger      *slog.Logger // never nil
}

// Server serves the memcached protocol from an in-memory store.
type Server struct {
	cfg Config
}

// New returns a Server with an empty store.
func New(cfg Config) *Server { return &Server{cfg: cfg} }

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { panic("memserver: not implemented yet") }

// Shutdown stops accepting and waits for connections to finish their
// current request, or for ctx to end.
func (s *Server) Shutdown(ctx context.Context) error { return nil }
