package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/moxifleet/moxi/mapstore"
)

// monitorLeadership starts the leader loop when raft says this node
// leads and stops it, waiting for it, when raft says it no longer does.
// raft's NotifyCh, unlike LeaderCh, delivers every transition in order,
// so two leader loops never run at once on one node.
func (c *Cluster) monitorLeadership(ctx context.Context) {
	var run leaderRun
	defer run.stop()
	for {
		select {
		case <-ctx.Done():
			return
		case leading := <-c.raft.notify:
			switch {
			case !leading && run.active():
				c.leadershipChanges.Add(1)
				c.logger.Info("lost leadership", "node", c.id.Node)
				run.stop()
				c.raft.thin.forget()
			case leading && !run.active():
				c.leadershipChanges.Add(1)
				c.logger.Info("became leader", "node", c.id.Node, "term", c.raft.r.Stats()["term"])
				c.useTimeouts(true) // a leader heartbeats at its own timeout's pace
				run.start(ctx, c.leaderLoop)
			}
		}
	}
}

// leaderRun is one running leader loop.
type leaderRun struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (l *leaderRun) active() bool { return l.cancel != nil }

func (l *leaderRun) start(ctx context.Context, loop func(context.Context)) {
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	l.cancel, l.done = cancel, done
	go func() {
		defer close(done)
		loop(lctx)
	}()
}

// stop ends the loop and waits for it, so that the subscription it ran
// is closed before this node could lead again.
func (l *leaderRun) stop() {
	if l.cancel == nil {
		return
	}
	l.cancel()
	<-l.done
	l.cancel = nil
}

// leaderLoop runs while this node leads: it waits until the FSM has
// applied everything committed (Barrier), makes sure the fleet has its
// source, starts the leader-only routine (the config subscription), and
// reconciles raft membership from gossip until leadership ends. When it
// returns, the subscription has stopped.
func (c *Cluster) leaderLoop(ctx context.Context) {
	if err := c.raft.r.Barrier(time.Minute).Error(); err != nil {
		c.logger.Warn("leader barrier failed", "err", err)
		return
	}
	if !c.establishSource(ctx) {
		return
	}
	c.established.Store(true)
	defer c.established.Store(false)
	leadDone := make(chan struct{})
	go func() {
		defer close(leadDone)
		if c.deps.Lead != nil {
			c.deps.Lead(ctx, c)
		}
	}()
	defer func() { <-leadDone }()
	tick := time.NewTicker(c.reconcileInterval())
	defer tick.Stop()
	for {
		c.reconcile(time.Now())
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-c.gossip.events:
		}
	}
}

func (c *Cluster) reconcileInterval() time.Duration {
	if c.cfg.Fast {
		return 200 * time.Millisecond
	}
	return 2 * time.Second
}

// establishSource proposes this node's source when the fleet has none
// (the first leader of a new fleet), retrying until it is in or
// leadership ends. A fleet that has a source keeps it: a node restarted
// with another -z serves the fleet's and says so.
func (c *Cluster) establishSource(ctx context.Context) bool {
	for {
		st := c.deps.Store.State()
		if st.Source != nil {
			if c.cfg.Source != nil && !st.Source.Same(*c.cfg.Source) {
				c.logger.Error("this node was started with another source than its fleet's; serving the fleet's",
					"node_source", c.cfg.Source.Spec, "fleet_source", st.Source.Spec)
			}
			return true
		}
		if c.cfg.Source == nil {
			return true // a fleet with no source yet: nothing to lead
		}
		src := *c.cfg.Source
		src.FleetID = c.fleetID()
		_, err := c.Propose(ctx, mapstore.EncodeSetSource(src))
		if err == nil || errors.Is(err, mapstore.ErrSourceConflict) {
			continue
		}
		c.logger.Warn("could not record the fleet's source; retrying", "err", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Second):
		}
	}
}

// IsLeader reports whether this node is the established leader.
func (c *Cluster) IsLeader() bool { return c.established.Load() }
