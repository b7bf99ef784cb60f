package cluster

import (
	"context"
	"time"

	"github.com/hashicorp/raft"
)

// watchSuffrage keeps this node's raft timeouts in line with its role:
// voter timings while it votes (or is not in the configuration yet),
// the longer non-voter ones while it does not (see timeouts). The
// leader changes roles; each node follows its own within a second.
func (c *Cluster) watchSuffrage(ctx context.Context) {
	every := time.Second
	if c.cfg.Fast {
		every = 200 * time.Millisecond
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		f := c.raft.r.GetConfiguration()
		if f.Error() != nil {
			continue // shutting down
		}
		c.useTimeouts(isVoterIn(f.Configuration().Servers, raft.ServerID(c.id.Node)))
	}
}

// isVoterIn reports whether id votes in servers; a node not among them
// counts as one, so that it keeps raft's usual timings.
func isVoterIn(servers []raft.Server, id raft.ServerID) bool {
	for _, s := range servers {
		if s.ID == id {
			return s.Suffrage == raft.Voter
		}
	}
	return true
}

func (c *Cluster) useTimeouts(voter bool) {
	if err := c.raft.useTimeouts(voter); err != nil {
		c.logger.Warn("could not set raft timeouts", "voter", voter, "err", err)
	}
}
