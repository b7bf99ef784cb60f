package main

import (
	"fmt"
	"slices"
)

// failover takes node id out of the cluster at once, as membase's
// failover does, and publishes the new map. For each vbucket it was
// master of, a surviving replica is promoted and keeps the data (the mock
// replicates perfectly: the failed node's items are copied over). Without
// a replica the vbucket's data is lost: with orphan it is left without a
// master (-1, as real membase does until the next rebalance), otherwise
// it gets an empty master on the least loaded survivor so that traffic
// keeps flowing. The node stays up but owns nothing, so clients with the
// old map get NOT_MY_VBUCKET from it.
func (c *cluster) failover(id int, orphan bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reb != nil {
		return errBusy
	}
	n, err := c.nodeLocked(id)
	if err != nil {
		return err
	}
	if !slices.Contains(c.serverList, id) {
		return fmt.Errorf("node %d is not in the cluster: %w", id, errRequest)
	}
	survivors := slices.DeleteFunc(slices.Clone(c.serverList), func(s int) bool { return s == id })
	if len(survivors) == 0 {
		return fmt.Errorf("cannot fail over the last node: %w", errRequest)
	}
	for _, b := range c.buckets {
		c.failoverBucket(b, n, survivors, orphan)
	}
	n.state = nodeFailed
	c.serverList = survivors
	c.ctr.failovers.Add(1)
	c.publishLocked()
	c.log.Info("node failed over", "node", id, "servers", survivors)
	return nil
}

// failoverBucket rewrites b's map without node n and moves ownership.
func (c *cluster) failoverBucket(b *bucket, n *dataNode, survivors []int, orphan bool) {
	for vb, row := range b.rows {
		if row[0] == n.id {
			b.owners[vb].Store(-1) // n stops serving at once
		}
	}
	items := n.servers[b.spec.name].TakeItems(func([]byte) bool { return true })
	load := mastersOn(b.rows)
	promoted := map[int]*dataNode{} // vbucket -> promoted replica
	for vb, row := range b.rows {
		lost := row[0] == n.id
		b.rows[vb] = dropNode(row, n.id)
		if !lost {
			continue
		}
		switch {
		case b.rows[vb][0] >= 0:
			promoted[vb] = c.nodes[b.rows[vb][0]]
		case !orphan:
			b.rows[vb][0] = leastLoaded(survivors, load)
		}
		load[b.rows[vb][0]]++
	}
	nvb := len(b.rows)
	deliver(b, items, func(key []byte) *dataNode { return promoted[vbucketOf(key, nvb)] }, false)
	for vb, row := range b.rows {
		b.owners[vb].Store(int32(row[0]))
	}
}

// dropNode removes id from a map row, promoting the first surviving
// replica when id was the master, and pads the row with -1.
func dropNode(row []int, id int) []int {
	out := make([]int, 0, len(row))
	for _, s := range row {
		if s != id && s >= 0 {
			out = append(out, s)
		}
	}
	for len(out) < len(row) {
		out = append(out, -1)
	}
	return out
}

// leastLoaded returns the survivor that is master of fewest vbuckets.
func leastLoaded(survivors []int, load map[int]int) int {
	best := survivors[0]
	for _, s := range survivors[1:] {
		if load[s] < load[best] {
			best = s
		}
	}
	return best
}
