package proxycore

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"
)

// secure wraps a freshly dialed server connection in TLS when the
// bucket's behavior asks for it (downstream_tls), finishing the handshake
// within what is left of connect_timeout since dialed, so a server that
// accepts TCP but never answers TLS fails like one that never answers.
func (s *downstream) secure(c net.Conn, dialed time.Time) (net.Conn, error) {
	cfg := s.beh.DownstreamTLS
	if cfg == nil {
		return c, nil
	}
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = s.tlsHost()
	}
	ctx := context.Background()
	if t := s.beh.ConnectTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dialed.Add(t))
		defer cancel()
	}
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("tls handshake: %w", err)
	}
	return tc, nil
}

// tlsHost is the host a server's certificate must name: its address's.
func (s *downstream) tlsHost() string {
	host, _, err := net.SplitHostPort(s.addr)
	if err != nil {
		return s.addr
	}
	return host
}
