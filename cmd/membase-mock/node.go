package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/moxifleet/moxi/internal/memserver"
)

// nodeState is a data node's membership, as ns_server's clusterMembership.
type nodeState string

const (
	nodeActive  nodeState = "active"         // in the serverList
	nodeFailed  nodeState = "inactiveFailed" // failed over: owns nothing
	nodeRemoved nodeState = "inactiveRemoved"
)

// dataNode is one membase data node (memcached + ep-engine on 11210): one
// listening port serving every bucket, the bucket chosen per connection
// by SASL as membase's bucket_engine does. Each bucket's data lives in a
// memserver whose vbucket filter follows that bucket's ownership table.
// The node can be killed (listener and connections closed) and started
// again on the same port with its data intact, like a restarted membase
// that warms up from disk.
type dataNode struct {
	id      int
	log     *slog.Logger
	servers map[string]*memserver.Server // by bucket name
	inbox   map[string]*handoff
	secrets map[string]string // bucket name -> password
	open    string            // bucket of connections that never authenticate; "" none
	serveWG sync.WaitGroup

	state nodeState // guarded by cluster.mu

	host string // -host: where it listens, and its serverList name

	mu    sync.Mutex
	port  int
	ln    net.Listener
	conns map[net.Conn]struct{}
}

// newDataNode creates the node's bucket servers and starts listening on
// host:port (0: a free port, kept for later restarts).
func newDataNode(id int, host string, port int, buckets []*bucket, ctr *counters, log *slog.Logger) (*dataNode, error) {
	n := &dataNode{id: id, host: host, port: port, log: log.With("node", id), state: nodeActive,
		servers: map[string]*memserver.Server{}, inbox: map[string]*handoff{},
		secrets: map[string]string{}, conns: map[net.Conn]struct{}{}}
	for _, b := range buckets {
		n.addBucket(b, ctr)
	}
	if err := n.start(); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

// addBucket starts the memserver holding b's items on this node.
func (n *dataNode) addBucket(b *bucket, ctr *counters) {
	filter := func(vb uint16) bool {
		if b.owns(n.id, vb) {
			return true
		}
		ctr.notMyVBucket.Add(1)
		return false
	}
	srv := memserver.New(memserver.Config{Version: mockVersion, VBucketFilter: filter,
		Logger: n.log.With("bucket", b.spec.name)})
	in := newHandoff(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	n.servers[b.spec.name], n.inbox[b.spec.name], n.secrets[b.spec.name] = srv, in, b.spec.password
	if b.spec.name == "default" && b.spec.password == "" {
		n.open = "default"
	}
	n.serveWG.Add(1)
	go func() {
		defer n.serveWG.Done()
		_ = srv.Serve(in)
	}()
}

// addr is the node's "host:port", as the serverList names it.
func (n *dataNode) addr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return net.JoinHostPort(n.host, strconv.Itoa(n.port))
}

// listenPort is the node's port, fixed once it first listened.
func (n *dataNode) listenPort() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.port
}

// listening reports whether the node accepts connections (not killed).
func (n *dataNode) listening() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ln != nil
}

// start opens the listener, on the node's port once it has one.
func (n *dataNode) start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(n.host, strconv.Itoa(n.port)))
	if err != nil {
		return fmt.Errorf("data node %d: %w", n.id, err)
	}
	n.ln, n.port = ln, ln.Addr().(*net.TCPAddr).Port
	go n.acceptLoop(ln)
	return nil
}

// kill closes the listener and every connection, as if the process died:
// clients see resets and refused connections.
func (n *dataNode) kill() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ln != nil {
		_ = n.ln.Close()
		n.ln = nil
	}
	for c := range n.conns {
		_ = c.Close()
	}
}

// close kills the node and stops its bucket servers for good.
func (n *dataNode) close() {
	n.kill()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for name, srv := range n.servers {
		if err := srv.Shutdown(ctx); err != nil {
			n.log.Warn("bucket server shutdown", "bucket", name, "err", err)
		}
	}
	n.serveWG.Wait()
}

func (n *dataNode) acceptLoop(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				n.log.Warn("accept failed; node stops listening", "err", err)
			}
			return
		}
		if !n.track(c) {
			_ = c.Close()
			continue
		}
		go n.serveConn(c)
	}
}

// track records c so kill can close it; false once the node is killed.
func (n *dataNode) track(c net.Conn) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ln == nil {
		return false
	}
	n.conns[c] = struct{}{}
	return true
}

func (n *dataNode) untrack(c net.Conn) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.conns, c)
}

// serveConn settles the connection's bucket, then hands it to that
// bucket's server. A connection that never authenticates lands in the
// password-less "default" bucket; without one it is closed.
func (n *dataNode) serveConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	br := bufio.NewReaderSize(c, 16<<10)
	name, err := n.authenticate(c, br)
	if name == "" {
		name = n.open
	}
	in := n.inbox[name]
	if err != nil || in == nil {
		n.log.Debug("connection closed before reaching a bucket", "err", err, "bucket", name)
		n.untrack(c)
		_ = c.Close()
		return
	}
	bc := &bufferedConn{Conn: c, r: br, onClose: func() { n.untrack(c) }}
	if !in.deliver(bc) {
		_ = bc.Close()
	}
}
