package node

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"github.com/moxifleet/moxi/cluster"
)

// Fleet-wide front cache drops. A command through one node that changes
// a cached key drops it there at once; the node also tells every other
// node, which drop it too, so that no node serves the old value for its
// lifespan. Drops are batched (dropBatchWait after the first, or when a
// batch is full) and sent best effort over gossip's UDP: a lost batch
// leaves the lifespan as the bound, as before.

// dropBatchWait is how long a batch gathers drops before it goes.
const dropBatchWait = 5 * time.Millisecond

// dropBatcher gathers encoded drops; the sharer sends them.
type dropBatcher struct {
	mu   sync.Mutex
	buf  []byte
	wake chan struct{} // a token when buf turns non-empty
}

func newDropBatcher() *dropBatcher { return &dropBatcher{wake: make(chan struct{}, 1)} }

// add records a drop (key nil: all of the bucket's). It never blocks.
func (d *dropBatcher) add(port int, bucket string, key []byte) {
	d.mu.Lock()
	first := len(d.buf) == 0
	d.buf = appendDrop(d.buf, port, bucket, key)
	d.mu.Unlock()
	if first {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

func (d *dropBatcher) take() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.buf
	d.buf = nil
	return b
}

// appendDrop encodes one drop: port, bucket, key (length+1; 0 for all).
func appendDrop(dst []byte, port int, bucket string, key []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(port))
	dst = binary.AppendUvarint(dst, uint64(len(bucket)))
	dst = append(dst, bucket...)
	if key == nil {
		return binary.AppendUvarint(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(len(key))+1)
	return append(dst, key...)
}

// eachDrop decodes a payload; it stops at the first malformed entry.
func eachDrop(b []byte, fn func(port int, bucket string, key []byte)) {
	for len(b) > 0 {
		port, n := binary.Uvarint(b)
		if n <= 0 {
			return
		}
		b = b[n:]
		bl, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < bl {
			return
		}
		bucket := string(b[n : n+int(bl)])
		b = b[n+int(bl):]
		kl, n := binary.Uvarint(b)
		if n <= 0 || (kl > 0 && uint64(len(b)-n) < kl-1) {
			return
		}
		var key []byte
		if kl > 0 {
			key = b[n : n+int(kl-1)]
			b = b[n+int(kl-1):]
		} else {
			b = b[n:]
		}
		fn(int(port), bucket, key)
	}
}

// runDropSharing sends the batches until ctx ends. It wakes only when
// there is something to send: an idle node pays nothing.
func (n *Node) runDropSharing(ctx context.Context, d *dropBatcher, c *cluster.Cluster) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(dropBatchWait):
		}
		for _, chunk := range splitDrops(d.take(), cluster.MaxSharedPayload) {
			if err := c.Share(chunk); err != nil {
				n.logger.Debug("could not share front cache drops", "err", err)
			}
		}
	}
}

// splitDrops cuts a batch into payloads of at most max bytes at entry
// boundaries (an entry longer than max goes alone, and Share refuses it:
// its key's lifespan bounds it then).
func splitDrops(b []byte, max int) [][]byte {
	var out [][]byte
	var cur []byte
	eachDrop(b, func(port int, bucket string, key []byte) {
		e := appendDrop(nil, port, bucket, key)
		if len(cur)+len(e) > max && len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, e...)
	})
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// applyShared drops what another node shared.
func (n *Node) applyShared(payload []byte) {
	ps := n.currentProxy()
	if ps == nil {
		return
	}
	eachDrop(payload, func(port int, bucket string, key []byte) { ps.DropShared(port, bucket, key) })
}
