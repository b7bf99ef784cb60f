package netserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("netserve: server closed")

// Handler serves one connection. It must return when ctx is done or the
// connection fails; the Server closes the connection after it returns.
type Handler func(ctx context.Context, c net.Conn)

// Server runs Handler for every accepted connection.
type Server struct {
	Handler Handler
	Logger  *slog.Logger
	// MaxConns caps the connections open at once, over every listener
	// (memcached's -c); 0 leaves them uncapped. A connection accepted
	// over the cap is sent Reject and closed at once, as memcached does,
	// so a flood of clients cannot take the process's descriptors or
	// memory.
	MaxConns int
	Reject   []byte

	rejected atomic.Uint64

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	closed    bool
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

func (s *Server) init() {
	if s.listeners == nil {
		s.listeners = make(map[net.Listener]struct{})
		s.conns = make(map[net.Conn]struct{})
		s.ctx, s.cancel = context.WithCancel(context.Background())
	}
}

// Serve accepts on ln until Shutdown or a permanent accept error.
func (s *Server) Serve(ln net.Listener) error { return s.ServeFunc(ln, s.Handler) }

// ServeFunc is Serve with a handler of its own for ln's connections, for a
// server that listens on several ports with different handlers.
func (s *Server) ServeFunc(ln net.Listener, h Handler) error {
	s.mu.Lock()
	s.init()
	if s.closed {
		s.mu.Unlock()
		_ = ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()

	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				backoff = nextBackoff(backoff)
				s.Logger.Warn("accept failed; retrying", "err", err, "delay", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		switch s.track(c) {
		case tracked:
			go s.serveConn(c, h)
		case overCap:
			s.reject(c)
		default:
			_ = c.Close()
			return ErrServerClosed
		}
	}
}

func nextBackoff(d time.Duration) time.Duration {
	if d == 0 {
		return 5 * time.Millisecond
	}
	return min(2*d, time.Second)
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

type trackResult int

const (
	tracked trackResult = iota
	overCap
	closed
)

// track registers c and counts its handler in wg. Both happen under mu
// and only while the server is open, so every wg.Add happens before
// Shutdown's wg.Wait: Add racing a Wait on a zero counter is a misuse the
// race detector reports.
func (s *Server) track(c net.Conn) trackResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return closed
	case s.MaxConns > 0 && len(s.conns) >= s.MaxConns:
		return overCap
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return tracked
}

// rejectWriteTimeout bounds the write of Reject: the accept loop does it
// itself, so a client that does not read cannot hold it up (a fresh
// socket's buffer takes the few bytes at once anyway).
const rejectWriteTimeout = 100 * time.Millisecond

// reject answers a connection over the cap with Reject and closes it.
func (s *Server) reject(c net.Conn) {
	s.rejected.Add(1)
	if len(s.Reject) > 0 {
		_ = c.SetWriteDeadline(time.Now().Add(rejectWriteTimeout))
		_, _ = c.Write(s.Reject)
	}
	_ = c.Close()
}

// Rejected returns how many connections were refused over MaxConns.
func (s *Server) Rejected() uint64 { return s.rejected.Load() }

func (s *Server) serveConn(c net.Conn, h Handler) {
	defer s.wg.Done()
	defer func() {
		if r := recover(); r != nil {
			s.Logger.Error("panic serving connection", "remote", c.RemoteAddr().String(), "panic", r, "stack", string(debug.Stack()))
		}
		_ = c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	h(s.ctx, c)
}

// NumConns returns the number of open connections.
func (s *Server) NumConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// forceWait is how long Shutdown still waits for handlers once ctx has
// ended and their connections are closed. A handler stuck past that (a
// bug) must not hold the process: Shutdown returns and the exit goes on.
const forceWait = time.Second

// Shutdown stops accepting, cancels the handlers' context and waits for
// every handler to return or ctx to end; then it closes what is left and
// waits at most forceWait more, so it returns within ctx's deadline plus
// forceWait whatever the handlers do.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.init()
	s.closed = true
	for ln := range s.listeners {
		_ = ln.Close()
	}
	s.cancel()
	s.mu.Unlock()

	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.closeConns()
	}
	t := time.NewTimer(forceWait)
	defer t.Stop()
	select {
	case <-done:
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("handlers still running %v after closing their connections: %w", forceWait, ctx.Err())
	}
}

func (s *Server) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		_ = c.Close()
	}
}
