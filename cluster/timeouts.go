package cluster

import (
	"time"

	"github.com/hashicorp/raft"
)

// timeouts are raft's timings for this node. Voters use raft's LAN
// defaults (cluster_fast: halved, for loopback tests); a non-voter waits
// longer for its leader, so that the leader can heartbeat it rarely
// (thinTransport): a non-voter that times out starts no election, it
// only forgets who leads until the next contact.
type timeouts struct {
	heartbeat, election, lease time.Duration
	// commit is raft's CommitTimeout: how often an idle leader sends each
	// follower an append besides heartbeats. Propose follows each entry
	// with a barrier, so no commit waits for it; raft's 50 ms default was
	// half of an idle leader's CPU at 31 nodes.
	commit time.Duration
	// nonVoterHeartbeat is a non-voter's heartbeat (and election) timeout;
	// nonVoterBeat the least time between two heartbeats the leader sends
	// one, a third of it so that one lost beat is not a timeout.
	nonVoterHeartbeat, nonVoterBeat time.Duration
}

func voterTimeouts(cfg Config) timeouts {
	if cfg.Fast {
		// Faster than raft's LAN defaults, but with room for a loaded
		// two-core host: a 100 ms lease made leaders step down, and drop
		// the fleet's stream, under test load.
		return timeouts{heartbeat: 500 * time.Millisecond, election: 500 * time.Millisecond,
			lease: 250 * time.Millisecond, commit: 5 * time.Millisecond,
			nonVoterHeartbeat: 2 * time.Second, nonVoterBeat: 600 * time.Millisecond}
	}
	return timeouts{heartbeat: time.Second, election: time.Second, lease: 500 * time.Millisecond,
		commit: 2 * time.Second, nonVoterHeartbeat: 6 * time.Second, nonVoterBeat: 2 * time.Second}
}

func (t timeouts) setOn(rc *raft.Config) {
	rc.HeartbeatTimeout, rc.ElectionTimeout = t.heartbeat, t.election
	rc.LeaderLeaseTimeout, rc.CommitTimeout = t.lease, t.commit
}

// useTimeouts sets raft's heartbeat and election timeouts for this
// node's suffrage; voter is also what a node outside the configuration
// (joining) and a leader use.
func (rn *raftNode) useTimeouts(voter bool) error {
	want := rn.times.nonVoterHeartbeat
	if voter {
		want = rn.times.heartbeat
	}
	rc := rn.r.ReloadableConfig()
	if rc.HeartbeatTimeout == want {
		return nil
	}
	rc.HeartbeatTimeout, rc.ElectionTimeout = want, want
	if voter {
		rc.ElectionTimeout = rn.times.election
	}
	return rn.r.ReloadConfig(rc)
}
