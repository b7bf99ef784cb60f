// Package cluster will hold fleet membership (memberlist gossip) and the raft
// group that replicates routing maps; it is empty until the fleet issue.
package cluster
