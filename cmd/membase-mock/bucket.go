package main

import (
	"slices"
	"sync/atomic"
)

// bucket is one membase bucket: its published map and the ownership the
// data nodes enforce. The two differ on purpose during a move: a vbucket
// is first taken from its old owner, then given to the new one, and only
// then published, as membase flips a vbucket before clients learn of it.
type bucket struct {
	spec bucketSpec
	// owners[vb] is the id of the node serving vb as master, -1 for none.
	// Data nodes read it on every request, so it is lock-free.
	owners []atomic.Int32

	// Guarded by cluster.mu. Rows hold node ids, not serverList
	// positions, so that they survive changes of the serverList.
	rows    [][]int // the current map
	forward [][]int // the map a running rebalance ends with; nil otherwise
}

func newBucket(spec bucketSpec, rows [][]int) *bucket {
	b := &bucket{spec: spec, rows: rows, owners: make([]atomic.Int32, len(rows))}
	for vb, row := range rows {
		b.owners[vb].Store(int32(row[0]))
	}
	return b
}

// owns reports whether node serves vb as master now.
func (b *bucket) owns(node int, vb uint16) bool {
	return int(vb) < len(b.owners) && b.owners[vb].Load() == int32(node)
}

// ownerOf returns the node serving key's vbucket, -1 for none.
func (b *bucket) ownerOf(key []byte) int {
	return int(b.owners[vbucketOf(key, len(b.owners))].Load())
}

// mastersOn counts the vbuckets each node is master of in rows.
func mastersOn(rows [][]int) map[int]int {
	n := map[int]int{}
	for _, row := range rows {
		n[row[0]]++
	}
	return n
}

// cloneRows deep-copies a map.
func cloneRows(rows [][]int) [][]int {
	out := make([][]int, len(rows))
	for i, r := range rows {
		out[i] = slices.Clone(r)
	}
	return out
}
