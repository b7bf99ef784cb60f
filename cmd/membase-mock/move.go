package main

import (
	"context"
	"slices"

	"github.com/moxifleet/moxi/internal/memserver"
)

// moveBatch moves a batch of vbuckets to their new masters, then
// publishes the updated current map. Per vbucket, as membase's takeover:
// the old master stops serving it (clients get NOT_MY_VBUCKET from both
// sides for a moment), its items are handed over, then the new master
// starts serving it. Clients learn of the move only after it is done.
func (c *cluster) moveBatch(ctx context.Context, reb *rebalance, batch []move) {
	for _, m := range batch {
		m.b.owners[m.vb].Store(-1)
	}
	type source struct {
		b    *bucket
		from *dataNode
	}
	vbs := map[source]map[int]*dataNode{} // vbucket -> new master, per source
	for _, m := range batch {
		if m.from == nil {
			continue // nobody had it: nothing to copy
		}
		s := source{m.b, m.from}
		if vbs[s] == nil {
			vbs[s] = map[int]*dataNode{}
		}
		vbs[s][m.vb] = m.to
	}
	for s, dest := range vbs {
		nvb := len(s.b.owners)
		items := s.from.servers[s.b.spec.name].TakeItems(func(k []byte) bool {
			return dest[vbucketOf(k, nvb)] != nil
		})
		deliver(s.b, items, func(key []byte) *dataNode { return dest[vbucketOf(key, nvb)] }, true)
	}
	for _, m := range batch {
		m.b.owners[m.vb].Store(int32(m.to.id))
	}
	// The new masters serve the batch before the map says so, for
	// -publish-lag: clients that trust the published map meet
	// NOT_MY_VBUCKET, as they do when ns_server's stream lags.
	pause(ctx, c.cfg.publishLag)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range batch {
		m.b.rows[m.vb] = slices.Clone(m.b.forward[m.vb])
	}
	reb.moved += len(batch)
	c.publishLocked()
}

// deliver stores items on the node dest names for each key (nil: the
// item is lost, as when a vbucket without replica is failed over).
func deliver(b *bucket, items []memserver.Item, dest func(key []byte) *dataNode, replace bool) int {
	byNode := map[*dataNode][]memserver.Item{}
	for _, it := range items {
		if n := dest(it.Key); n != nil {
			byNode[n] = append(byNode[n], it)
		}
	}
	stored := 0
	for n, its := range byNode {
		stored += n.servers[b.spec.name].PutItems(its, replace)
	}
	return stored
}

// sweep hands items left on a node that does not own their vbucket to
// the owner, without overwriting anything there. Such strays come from
// a write that passed the ownership check just before its vbucket moved.
func (c *cluster) sweep(b *bucket) {
	c.mu.Lock()
	nodes := slices.Clone(c.nodes)
	c.mu.Unlock()
	for _, n := range nodes {
		strays := n.servers[b.spec.name].TakeItems(func(k []byte) bool { return b.ownerOf(k) != n.id })
		if len(strays) == 0 {
			continue
		}
		kept := deliver(b, strays, func(key []byte) *dataNode {
			if id := b.ownerOf(key); id >= 0 {
				return nodes[id]
			}
			return nil
		}, false)
		c.log.Debug("stray items swept", "bucket", b.spec.name, "node", n.id, "found", len(strays), "kept", kept)
	}
}
