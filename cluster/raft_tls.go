package cluster

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// raftHandshakeTimeout bounds one TLS handshake on the raft port, as
// raft's own I/O timeout bounds an RPC.
const raftHandshakeTimeout = 10 * time.Second

// raftRefused is the line logged, on either end, for a raft connection
// whose TLS handshake failed.
const raftRefused = "raft connection refused: TLS handshake failed (each node needs a certificate signed by cluster_tls_ca)"

// tlsStream is raft's StreamLayer over mutual TLS (cluster_tls_*): both
// ends present a certificate that must chain to the fleet's CA, so a
// host without one can neither send raft RPCs nor receive the maps
// (which carry SASL passwords).
//
// Handshakes of accepted connections run in goroutines of their own and
// only finished ones reach raft: raft accepts on one goroutine, which a
// peer that connects and says nothing must not hold up, and a refused
// peer is logged here, once a minute at most, rather than as raft's
// "failed to decode incoming command" for every try.
type tlsStream struct {
	ln       net.Listener // plain TCP; the handshakes are ours
	server   *tls.Config
	client   *tls.Config
	refusals *refusalLog

	ready     chan net.Conn // handshaken connections, for Accept
	acceptErr chan error    // the TCP listener's errors, for Accept
	done      chan struct{} // closed by Close
	closeOnce sync.Once
}

// newTLSStream listens on addr and starts accepting.
func newTLSStream(addr string, t *TLS, logger *slog.Logger) (*tlsStream, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("raft listen on %s: %w", addr, err)
	}
	if a, ok := ln.Addr().(*net.TCPAddr); !ok || a.IP.IsUnspecified() {
		_ = ln.Close()
		return nil, fmt.Errorf("raft address %s: not an address other nodes can reach", addr)
	}
	s := &tlsStream{ln: ln, server: t.Server, client: t.Client, refusals: newRefusalLog(logger),
		ready: make(chan net.Conn), acceptErr: make(chan error), done: make(chan struct{})}
	go s.acceptLoop()
	return s, nil
}

// acceptLoop hands each TCP connection to a handshake goroutine until
// Close.
func (s *tlsStream) acceptLoop() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			select {
			case s.acceptErr <- err: // raft backs off and asks again
				continue
			case <-s.done:
				return
			}
		}
		go s.handshake(c)
	}
}

// handshake shakes hands with an accepted connection, within
// raftHandshakeTimeout, and hands it to Accept; a refused peer is logged.
func (s *tlsStream) handshake(c net.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), raftHandshakeTimeout)
	defer cancel()
	tc := tls.Server(c, s.server)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		s.refusals.warn(raftRefused, c.RemoteAddr().String(), "a connection to this node's raft port", "err", err)
		return
	}
	select {
	case s.ready <- tc:
	case <-s.done:
		_ = tc.Close()
	}
}

// Accept returns the next connection whose handshake succeeded.
func (s *tlsStream) Accept() (net.Conn, error) {
	select {
	case c := <-s.ready:
		return c, nil
	case err := <-s.acceptErr:
		return nil, err
	case <-s.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting; a handshake still running ends within its
// timeout and its connection is closed.
func (s *tlsStream) Close() error {
	err := net.ErrClosed
	s.closeOnce.Do(func() {
		close(s.done)
		err = s.ln.Close()
	})
	return err
}

// Addr is the address raft advertises: the one bound.
func (s *tlsStream) Addr() net.Addr { return s.ln.Addr() }

// Dial connects to a peer's raft port and shakes hands within timeout.
func (s *tlsStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", string(addr))
	if err != nil {
		return nil, err
	}
	tc := tls.Client(c, s.client)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		s.refusals.warn(raftRefused, string(addr), "a connection from this node to the peer's raft port", "err", err)
		return nil, fmt.Errorf("raft TLS handshake with %s: %w", addr, err)
	}
	return tc, nil
}

// tlsTransport is raft's network transport over a tlsStream on addr,
// with the TCP transport's pool and timeout.
func tlsTransport(addr string, t *TLS, out io.Writer, logger *slog.Logger) (*raft.NetworkTransport, error) {
	s, err := newTLSStream(addr, t, logger)
	if err != nil {
		return nil, err
	}
	return raft.NewNetworkTransport(s, 3, 10*time.Second, out), nil
}

var _ raft.StreamLayer = (*tlsStream)(nil)
