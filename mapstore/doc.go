// Package mapstore holds moxi's routing maps: immutable, versioned values
// that say which server owns a key.
//
// A Map is built once and never changed; a new configuration produces a new
// Map that readers swap in atomically, so the request path never takes a lock.
// Maps are either ketama/modula continuums over a server list (memcached
// buckets, static host lists) or vBucket maps (membase buckets).
//
// Server choice is bit-compatible with libmemcached 1.x (weighted ketama,
// ketama, modula) so that a moxi can replace a client-side libmemcached
// pool without moving keys.
package mapstore
