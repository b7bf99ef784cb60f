package cluster

import (
	"errors"
	"os"
)

var (
	// ErrNotLeader is returned by Propose on a node that does not lead.
	ErrNotLeader = errors.New("cluster: not the leader")
	// ErrJoinTimeout ends a node with no data that found no fleet in
	// cluster_join_timeout.
	ErrJoinTimeout = errors.New("cluster: no fleet answered before cluster_join_timeout")
	// ErrOtherFleet refuses a join between two fleets.
	ErrOtherFleet = errors.New("cluster: member of another fleet")
	// ErrGossipKey refuses a join between nodes whose cluster_key differs
	// (or that one of them lacks).
	ErrGossipKey = errors.New("cluster: cluster_key mismatch")
)

func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
