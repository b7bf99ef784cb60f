// Package cluster makes moxi processes a fleet: hashicorp/memberlist
// gossip for membership, hashicorp/raft (logs in raft-boltdb) for
// consensus, and leader-only work.
//
// One node, the raft leader, runs the config source (a membase REST
// stream or a static config file) and proposes each config it receives
// as one raft entry carrying the source's exact bytes. Every node applies
// the entries to its mapstore.Store, whose versions are the raft indexes,
// so a fleet of any size costs membase one streaming connection, and
// every node still routes every request locally.
//
// The leader also reconciles raft membership from gossip: alive members
// join as voters up to Config.Voters, the rest as non-voters; a voter
// failed for DemoteAfter is replaced by a healthy non-voter; a member
// that left is removed at once, one failed for Reap is removed then.
//
// cluster never imports proxycore: the node wires the store to the proxy.
package cluster
