package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// joinLoop joins the members named by join, retrying with backoff and
// logging each try. A node with no data gives up after
// cluster_join_timeout (Err then reports it); one with data serves its
// last map meanwhile and keeps trying for ever.
func (c *Cluster) joinLoop(ctx context.Context) {
	addrs := make([]string, len(c.cfg.Join))
	for i, j := range c.cfg.Join {
		host, port, _ := splitHostPort(j, DefaultGossipPort)
		addrs[i] = net.JoinHostPort(host, strconv.Itoa(port))
	}
	deadline := time.Now().Add(c.cfg.JoinTimeout)
	delay := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := c.joinOnce(addrs)
		c.setJoinErr(err)
		if err == nil {
			c.logger.Info("joined the fleet", "via", addrs)
			return
		}
		if !c.hadData && !time.Now().Before(deadline) {
			c.fail(joinGaveUp(err, addrs, c.cfg.JoinTimeout))
			return
		}
		if !c.hadData {
			delay = min(delay, time.Until(deadline))
		}
		c.logger.Warn("join failed; retrying", "attempt", attempt, "addrs", addrs, "err", oneLine(err), "delay", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Second)
	}
}

// joinOnce contacts addrs and waits briefly for gossip to admit one of
// the members that answered: a node of another fleet answers but is
// refused (NotifyAlive), which is no join.
func (c *Cluster) joinOnce(addrs []string) error {
	n, err := c.gossip.ml.Join(addrs)
	if n == 0 {
		return explainJoin(err)
	}
	for wait := time.Now().Add(2 * time.Second); time.Now().Before(wait); time.Sleep(20 * time.Millisecond) {
		if c.gossip.hasPeer(c.id.Node) {
			return nil
		}
	}
	return errors.New("members answered but none was admitted: another fleet (see the refusal logged above)")
}

func (c *Cluster) setJoinErr(err error) {
	c.joinMu.Lock()
	defer c.joinMu.Unlock()
	c.joinErr = err
}

// errJoinPending is JoinErr until the first try to join has ended.
var errJoinPending = errors.New("cluster: the first try to join has not ended")

// JoinErr is why the last try to join failed: nil once one succeeded or
// when the node joins nobody, errJoinPending before the first try ends.
// The node names it when it gives up waiting for the fleet's
// configuration, which it may do before the join loop gives up.
func (c *Cluster) JoinErr() error {
	c.joinMu.Lock()
	defer c.joinMu.Unlock()
	return c.joinErr
}

// joinGaveUp is the error a node with no data stops on: the fleet
// answered but refused its cluster_key, or nobody answered.
func joinGaveUp(err error, addrs []string, timeout time.Duration) error {
	if errors.Is(err, ErrGossipKey) {
		return fmt.Errorf("%w (tried %v for %v, cluster_join_timeout)", err, addrs, timeout) // one line: explainJoin folded it
	}
	return fmt.Errorf("%w: tried %v for %v: %s", ErrJoinTimeout, addrs, timeout, oneLine(err))
}

// oneLine folds a multi-line error (memberlist's joined errors) into one
// line for logs and moxi's exit message.
func oneLine(err error) string {
	if err == nil {
		return "no member answered"
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// watchFleet adopts the fleet's ID once this node has applied the fleet's
// source (a joining node learns it then), and reports a source of another
// fleet than the one cluster_data belongs to.
func (c *Cluster) watchFleet(ctx context.Context) {
	ch, unsubscribe := c.deps.Store.Subscribe()
	defer unsubscribe()
	for {
		st := c.deps.Store.State()
		if st.Source != nil && st.Source.FleetID != "" {
			if err := c.checkFleet(st); err != nil {
				c.fail(err)
				return
			}
			if c.fleetID() == "" {
				c.idMu.Lock()
				c.id.Fleet = st.Source.FleetID
				c.idMu.Unlock()
				if err := c.saveIdentity(); err != nil {
					c.logger.Error("could not save the node identity", "err", err)
				}
			}
			c.gossip.setFleet(st.Source.FleetID, st.Source.Spec)
		}
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
	}
}
