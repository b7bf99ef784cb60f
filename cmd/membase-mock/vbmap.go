package main

import (
	"hash/crc32"
	"slices"
)

// vbucketOf is libvbucket's key -> vbucket rule: the top 15 bits of the
// key's CRC-32 (IEEE), masked by the vbucket count, a power of two.
func vbucketOf(key []byte, nvb int) int {
	return int((crc32.ChecksumIEEE(key)>>16)&0x7fff) & (nvb - 1)
}

// balancedMasters assigns every vbucket a master among nodes (ids) so
// that masters differ by at most one vbucket per node, moving as few
// vbuckets as it can: a vbucket stays on its current master while that
// node is kept and under its share. cur[vb] is the current master id, -1
// for none. The result is a new slice.
func balancedMasters(cur []int, nodes []int) []int {
	quota := make(map[int]int, len(nodes))
	for i, id := range nodes {
		quota[id] = len(cur) / len(nodes)
		if i < len(cur)%len(nodes) {
			quota[id]++
		}
	}
	out := slices.Clone(cur)
	for vb, m := range out {
		if q, kept := quota[m]; kept && q > 0 {
			quota[m]--
			continue
		}
		out[vb] = -1
	}
	next := 0
	for vb, m := range out {
		if m >= 0 {
			continue
		}
		for quota[nodes[next]] == 0 {
			next++
		}
		out[vb] = nodes[next]
		quota[nodes[next]]--
	}
	return out
}

// mapRows adds replicas to masters: row = [master, replica...], each a
// node id or -1 when there are not enough nodes. Replicas of one node's
// vbuckets are spread over the other nodes by vbucket id, so that a
// failover does not pile all of them onto one survivor.
func mapRows(masters []int, nodes []int, replicas int) [][]int {
	rows := make([][]int, len(masters))
	for vb, m := range masters {
		row := make([]int, 1+replicas)
		row[0] = m
		p := slices.Index(nodes, m)
		for i := range replicas {
			row[1+i] = -1
			if p >= 0 && i+1 < len(nodes) {
				off := 1 + (vb+i)%(len(nodes)-1)
				row[1+i] = nodes[(p+off)%len(nodes)]
			}
		}
		rows[vb] = row
	}
	return rows
}

// targetRows is the map a rebalance onto nodes ends with.
func targetRows(cur [][]int, nodes []int, replicas int) [][]int {
	masters := make([]int, len(cur))
	for vb, row := range cur {
		masters[vb] = row[0]
	}
	return mapRows(balancedMasters(masters, nodes), nodes, replicas)
}

// unassigned is a map of nvb vbuckets with no master yet.
func unassigned(nvb, replicas int) [][]int {
	rows := make([][]int, nvb)
	for vb := range rows {
		rows[vb] = slices.Repeat([]int{-1}, 1+replicas)
	}
	return rows
}
