package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/moxifleet/moxi/internal/netserve"
)

// Run binds every listener, serves until ctx is done, then shuts both
// servers down, letting in-flight requests finish for up to drainTimeout.
// It returns nil on a clean stop, a *ListenError when a port cannot be
// bound, and the server's error if one stops on its own.
func (n *Node) Run(ctx context.Context) error {
	if n.fleet != nil {
		return n.runFleet(ctx)
	}
	if n.own.Admin != "" { // a standalone proxy's admin HTTP is opt-in
		admin, err := n.startAdmin()
		if err != nil {
			return err
		}
		defer admin.close()
	}
	feedCtx, stopFeeds := context.WithCancel(ctx)
	defer stopFeeds()
	feedErr := make(chan error, len(n.feeds))
	for _, f := range n.feeds {
		untrack := n.streams.track(f.client)
		go func() {
			defer untrack()
			feedErr <- f.run(feedCtx)
		}()
	}
	return n.serve(ctx, feedErr)
}

// serve binds every listener and serves until ctx is done, a server
// stops, or fatal delivers (a feed's 401, a fleet this node cannot be
// part of); then it shuts the servers down.
func (n *Node) serve(ctx context.Context, fatal <-chan error) error {
	lns, err := n.bind()
	if err != nil {
		return err
	}
	errc := make(chan error, len(lns))
	for _, b := range lns {
		n.logger.Info("listening", "on", b.name)
		go func() { errc <- b.serve(b.ln) }()
	}
	n.bound.Store(true)
	var runErr error
	pending := len(lns)
	select {
	case <-ctx.Done():
	case err := <-errc:
		pending--
		runErr = fmt.Errorf("server stopped unexpectedly: %w", err)
	case err := <-fatal:
		if err != nil {
			runErr = err
		}
	}
	n.shutdown()
	n.waitServe(errc, pending)
	return runErr
}

// shutdown drains both servers concurrently, so the whole stop takes at
// most drainTimeout.
func (n *Node) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	var wg sync.WaitGroup
	stop := func(name string, shut func(context.Context) error) {
		defer wg.Done()
		if err := shut(ctx); err != nil {
			n.logger.Warn("shutdown did not drain cleanly", "server", name, "err", err)
		}
	}
	if n.proxy != nil {
		wg.Add(1)
		go stop("proxy", n.proxy.Shutdown)
	}
	if n.mem != nil {
		wg.Add(1)
		go stop("memcached", n.mem.Shutdown)
	}
	wg.Wait()
}

// waitServe collects the remaining Serve results. After Shutdown they
// should all be ErrServerClosed; anything else is logged. It gives up
// after a grace period so a stuck server cannot hang the exit.
func (n *Node) waitServe(errc <-chan error, pending int) {
	timeout := time.NewTimer(time.Second)
	defer timeout.Stop()
	for ; pending > 0; pending-- {
		select {
		case err := <-errc:
			if !isClosedErr(err) {
				n.logger.Warn("server stopped with an error", "err", err)
			}
		case <-timeout.C:
			n.logger.Warn("servers did not stop after shutdown", "remaining", pending)
			return
		}
	}
}

func isClosedErr(err error) bool {
	return err == nil || errors.Is(err, netserve.ErrServerClosed) || errors.Is(err, net.ErrClosed)
}
