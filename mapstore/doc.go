// Package mapstore holds moxi's routing maps: immutable, versioned values
// that say which server owns a key.
//
// A Map is built once and never changed; a new configuration produces a new
// Map that readers swap in atomically, so the request path never takes a lock.
// Maps are either ketama/modula continuums over a server list (memcached
// buckets, static host lists) or vBucket maps (membase/couchbase buckets).
//
// Server choice is bit-compatible with libmemcached 1.x (weighted ketama,
// ketama, modula) so that a moxi can replace a client-side libmemcached
// pool without moving keys.
//
// Bucket configs (the JSON that -z static configs and the REST streaming
// API deliver) are read by ParseBucket and ParseBuckets the way moxi reads
// them through libvbucket: the same accepted shapes, the same key hash
// (15 bits of CRC-32, masked to the vBucket count), the same rejections
// with libvbucket's exact messages, and libvbucket's rules for the SASL
// user ("default" has none) and for comparing two configs (Compare). A
// memcached bucket ("nodeLocator":"ketama") becomes the weighted-ketama
// host list moxi handed libmemcached.
//
// libvbucket patches its map in place on NOT_MY_VBUCKET; a Map cannot
// change, so NextMaster computes the same step and callers keep any
// per-connection override themselves.
package mapstore
