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
//
// A fleet of moxis shares its configs through raft, and Store is the
// state every node replicates. The raft leader alone reads the config
// source and proposes each config it receives as one log entry: a
// CommandType byte followed by JSON (EncodeSetSource, EncodeSetConfig)
// carrying the source's exact bytes, which every node parses itself.
// Store.Apply is deterministic: the map version is the raft index of the
// entry that set a section's bytes, an identical config is not re-applied
// (its version stays), indexes at or below the state's are skipped, so
// replays after a restart are harmless, and state-level rejections
// (ErrSourceConflict, ErrNoSource) still consume their index. Readers call
// State, which never locks; each FleetState is immutable, and Apply and
// Restore publish a new one. Types flagged IgnoreUnknown let newer leaders
// add optional commands and snapshot records that older nodes skip.
// WriteSnapshot and ReadSnapshot serve both raft snapshots and the
// node-local state file (SaveStateFile, LoadStateFile), and Restore
// refuses a state older than the current one, so a node never goes back.
package mapstore
