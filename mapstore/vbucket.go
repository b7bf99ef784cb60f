package mapstore

import "hash/crc32"

// vbTable is the routing part of a vBucket map. Rows are stored flat,
// stride ints per vBucket (master, then replicas), so a lookup is one
// multiplication and one load, with no per-row slice headers to chase.
type vbTable struct {
	mask    uint32  // numVBuckets-1; numVBuckets is a power of two
	stride  int     // numReplicas+1
	rows    []int32 // numVBuckets*stride server indexes, -1 = none
	forward []int32 // vBucketMapForward, same layout; nil when absent
}

// vbucketOf is libvbucket's key hash: bits 16..30 of the IEEE CRC-32,
// masked to the table size. Only 15 bits survive, so with 65536 vBuckets
// the upper half is never chosen - a libvbucket property clients share.
func (t *vbTable) vbucketOf(key []byte) uint16 {
	return uint16((crc32.ChecksumIEEE(key) >> 16) & 0x7fff & t.mask)
}

// locate is Map.locate for vBucket maps.
func (t *vbTable) locate(key []byte) int {
	return int(t.rows[int(t.vbucketOf(key))*t.stride])
}

// at returns row vb, column col of rows, or -1 when out of range.
func (t *vbTable) at(rows []int32, vb uint16, col int) int {
	i := int(vb)*t.stride + col
	if col < 0 || col >= t.stride || i >= len(rows) {
		return -1
	}
	return int(rows[i])
}

// IsVBucket reports whether m is a vBucket map (a membase/couchbase bucket).
func (m *Map) IsVBucket() bool { return m.vb != nil }

// NumVBuckets returns the number of vBuckets, 0 for other maps.
func (m *Map) NumVBuckets() int {
	if m.vb == nil {
		return 0
	}
	return int(m.vb.mask) + 1
}

// NumReplicas returns the config's numReplicas, 0 for other maps.
func (m *Map) NumReplicas() int {
	if m.vb == nil {
		return 0
	}
	return m.vb.stride - 1
}

// HasForwardMap reports whether the config carried a vBucketMapForward
// (a rebalance is under way).
func (m *Map) HasForwardMap() bool { return m.vb != nil && m.vb.forward != nil }

// VBucketOf returns the vBucket that owns key; 0 for maps that are not
// vBucket maps (moxi sends vBucket 0 to memcached buckets). It is
// allocation-free.
func (m *Map) VBucketOf(key []byte) uint16 {
	if m.vb == nil {
		return 0
	}
	return m.vb.vbucketOf(key)
}

// Master returns the index in m.Servers of vb's master, or -1 when the
// config names none yet, vb is out of range, or m is not a vBucket map.
func (m *Map) Master(vb uint16) int {
	if m.vb == nil {
		return -1
	}
	return m.vb.at(m.vb.rows, vb, 0)
}

// ForwardMaster returns vb's master in vBucketMapForward, -1 when there is
// no forward map (or it names none).
func (m *Map) ForwardMaster(vb uint16) int {
	if m.vb == nil {
		return -1
	}
	return m.vb.at(m.vb.forward, vb, 0)
}

// Replica returns vb's replica i (0-based), -1 when there is none. Like
// libvbucket it also answers -1 when i+1 >= len(m.Servers): a replica
// slot that cannot name a distinct server is not worth asking.
func (m *Map) Replica(vb uint16, i int) int {
	if m.vb == nil || i < 0 || i+1 >= len(m.Servers) {
		return -1
	}
	return m.vb.at(m.vb.rows, vb, i+1)
}

// ForwardReplica is Replica for vBucketMapForward.
func (m *Map) ForwardReplica(vb uint16, i int) int {
	if m.vb == nil || i < 0 || i+1 >= len(m.Servers) {
		return -1
	}
	return m.vb.at(m.vb.forward, vb, i+1)
}

// NextMaster is libvbucket's vbucket_found_incorrect_master without the
// mutation: given the master a caller currently believes in for vb and the
// server that just answered NOT_MY_VBUCKET, it returns the master to use
// next. With a forward map that is always the forward master (libvbucket
// then also takes the forward row's replicas: see ForwardReplica);
// otherwise the next server in the list when the refusing server is the
// believed master, else current unchanged (someone already moved on).
// The Map stays immutable; a caller that wants libvbucket's sticky
// behaviour keeps the returned value in its own per-connection overlay.
func (m *Map) NextMaster(vb uint16, current, wrong int) int {
	if m.HasForwardMap() {
		return m.ForwardMaster(vb)
	}
	if current == wrong && len(m.Servers) > 0 {
		return (current + 1) % len(m.Servers)
	}
	return current
}
