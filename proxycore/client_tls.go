package proxycore

import (
	"context"
	"crypto/tls"
	"net"
	"time"
)

// tlsHandshakeTimeout bounds a client's TLS handshake: a client that
// opens TCP and never finishes TLS must not hold its goroutine and
// buffers for ever (client_idle_timeout, when set, bounds what follows).
const tlsHandshakeTimeout = 10 * time.Second

// handshake completes a TLS client's handshake before anything is read,
// so that a failed one ends the connection with a log line instead of
// surfacing as a read error mid-protocol. Plain connections pass.
func (s *Server) handshake(ctx context.Context, c net.Conn) bool {
	tc, ok := c.(*tls.Conn)
	if !ok {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, tlsHandshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		s.logger.Info("client TLS handshake failed", "remote", tc.RemoteAddr().String(), "err", err)
		return false
	}
	return true
}
