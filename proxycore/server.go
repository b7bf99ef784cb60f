package proxycore

import (
	"context"
	"net"
)

// Server is the proxy for every configured bucket.
type Server struct {
	cfg  Config
	deps Deps
}

// New validates cfg and returns a Server ready to Serve.
func New(cfg Config, deps Deps) (*Server, error) {
	return &Server{cfg: cfg, deps: deps}, nil
}

// Serve accepts clients on ln for the bucket configured on port, until
// Shutdown. It returns netserve.ErrServerClosed after Shutdown.
func (s *Server) Serve(port int, ln net.Listener) error { panic("proxycore: not implemented yet") }

// Shutdown stops accepting, lets in-flight requests finish until ctx ends,
// then closes every client and server connection.
func (s *Server) Shutdown(ctx context.Context) error { return nil }
