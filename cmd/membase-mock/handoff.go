package main

import (
	"bufio"
	"net"
	"sync"
)

// handoff is a net.Listener fed by hand: a data node accepts the TCP
// connection itself, settles which bucket it is for (SASL), and then
// passes it to that bucket's memserver, which serves it as if it had
// accepted it.
type handoff struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	addr  net.Addr
}

func newHandoff(addr net.Addr) *handoff {
	return &handoff{conns: make(chan net.Conn), done: make(chan struct{}), addr: addr}
}

// Accept waits for a connection passed to deliver.
func (h *handoff) Accept() (net.Conn, error) {
	select {
	case c := <-h.conns:
		return c, nil
	case <-h.done:
		return nil, net.ErrClosed
	}
}

// Close makes Accept and deliver fail from now on.
func (h *handoff) Close() error {
	h.once.Do(func() { close(h.done) })
	return nil
}

func (h *handoff) Addr() net.Addr { return h.addr }

// deliver passes c to the server, or reports false once it has stopped.
func (h *handoff) deliver(c net.Conn) bool {
	select {
	case h.conns <- c:
		return true
	case <-h.done:
		return false
	}
}

// bufferedConn is a connection whose first bytes already sit in a
// bufio.Reader (the node peeked at them); reads drain that first.
// Closing it runs onClose once, so the node forgets the connection.
type bufferedConn struct {
	net.Conn
	r       *bufio.Reader
	once    sync.Once
	onClose func()
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *bufferedConn) Close() error {
	c.once.Do(c.onClose)
	return c.Conn.Close()
}
