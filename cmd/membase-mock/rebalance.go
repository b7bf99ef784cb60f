package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// rebalanceRequest is the body (or query) of POST /mock/rebalance: either
// a target node count, or nodes to add (fresh ones) and remove (by id).
type rebalanceRequest struct {
	Nodes  int   `json:"nodes"`
	Add    int   `json:"add"`
	Remove []int `json:"remove"`
}

// rebalance is a running rebalance, shown by /mock/status.
type rebalance struct {
	target []int         // node ids the cluster ends with
	moved  int           // vbuckets moved so far (cluster.mu)
	total  int           // vbuckets to move
	done   chan struct{} // closed when it has finished
}

// move is one vbucket changing master.
type move struct {
	b        *bucket
	vb       int
	from, to *dataNode // from is nil for a vbucket without master
}

// startRebalance publishes the forward maps at once and moves vbuckets
// in the background, one batch per -rebalance-step, as membase does:
// clients first learn where every vbucket is going, then see the current
// map catch up batch by batch, then get the final map without a forward
// map. Nodes to add are created first and join the serverList at once;
// nodes to remove leave it only at the end.
func (c *cluster) startRebalance(ctx context.Context, req rebalanceRequest) (*rebalance, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reb != nil {
		return nil, errBusy
	}
	keep, add, err := c.planLocked(req)
	if err != nil {
		return nil, err
	}
	target := keep
	for range add {
		n, err := c.addNodeLocked()
		if err != nil {
			return nil, err
		}
		target = append(target, n.id)
		c.serverList = append(c.serverList, n.id)
	}
	var moves []move
	for _, b := range c.buckets {
		b.forward = targetRows(b.rows, target, c.cfg.replicas)
		for vb, row := range b.rows {
			if to := b.forward[vb][0]; row[0] != to {
				moves = append(moves, move{b: b, vb: vb, from: c.nodeOrNil(row[0]), to: c.nodes[to]})
			}
		}
	}
	reb := &rebalance{target: target, total: len(moves), done: make(chan struct{})}
	c.reb = reb
	c.ctr.rebalances.Add(1)
	c.publishLocked()
	c.log.Info("rebalance started", "target", target, "vbuckets_to_move", len(moves))
	go c.runRebalance(ctx, reb, moves)
	return reb, nil
}

// planLocked returns the serverList nodes that stay and how many fresh
// nodes to add.
func (c *cluster) planLocked(req rebalanceRequest) (keep []int, add int, err error) {
	if req.Nodes < 0 || req.Add < 0 || (req.Nodes > 0 && (req.Add > 0 || len(req.Remove) > 0)) {
		return nil, 0, fmt.Errorf("give nodes=N, or add=K and/or remove=ID,...: %w", errRequest)
	}
	remove := req.Remove
	add = req.Add
	if req.Nodes > 0 {
		add = max(0, req.Nodes-len(c.serverList))
		byID := slices.Sorted(slices.Values(c.serverList))
		remove = byID[min(req.Nodes, len(byID)):] // the newest nodes go first
	}
	for _, id := range remove {
		if !slices.Contains(c.serverList, id) {
			return nil, 0, fmt.Errorf("node %d is not in the cluster: %w", id, errRequest)
		}
	}
	for _, id := range c.serverList {
		if !slices.Contains(remove, id) {
			keep = append(keep, id)
		}
	}
	if len(keep)+add == 0 {
		return nil, 0, fmt.Errorf("a rebalance must leave at least one node: %w", errRequest)
	}
	return keep, add, nil
}

func (c *cluster) nodeOrNil(id int) *dataNode {
	if id < 0 {
		return nil
	}
	return c.nodes[id]
}

// runRebalance moves the vbuckets batch by batch, then publishes the
// final map. If ctx ends first (the mock is stopping) it stops where it
// is, keeping the maps as they are and dropping the forward maps.
func (c *cluster) runRebalance(ctx context.Context, reb *rebalance, moves []move) {
	defer close(reb.done)
	completed := true
	for i := 0; i < len(moves) || i == 0; i += c.cfg.rebalanceBatch {
		if !pause(ctx, c.cfg.rebalanceStep) {
			completed = false
			break
		}
		if i < len(moves) {
			c.moveBatch(ctx, reb, moves[i:min(i+c.cfg.rebalanceBatch, len(moves))])
		}
	}
	for _, b := range c.buckets {
		c.sweep(b)
	}
	c.finishRebalance(reb, completed)
}

// pause waits d, or reports false if ctx ends first.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// finishRebalance publishes the end state: the forward maps become the
// maps and removed nodes leave the serverList.
func (c *cluster) finishRebalance(reb *rebalance, completed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.buckets {
		if completed {
			b.rows = b.forward
		}
		b.forward = nil
	}
	if completed {
		for _, id := range c.serverList {
			if !slices.Contains(reb.target, id) {
				c.nodes[id].state = nodeRemoved
			}
		}
		c.serverList = slices.DeleteFunc(c.serverList, func(id int) bool { return !slices.Contains(reb.target, id) })
	}
	c.reb = nil
	c.publishLocked()
	c.log.Info("rebalance finished", "completed", completed, "moved", reb.moved, "servers", c.serverList)
}
