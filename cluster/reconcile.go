package cluster

import (
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/raft"
)

// reconcile brings raft's membership in line with gossip, one change
// per kind each round: members that left or failed past cluster_reap
// are removed, new members are added (voters up to cluster_voters, then
// non-voters), and a voter failed past DemoteAfter is replaced by a
// healthy non-voter, promoted first so that quorum never shrinks.
func (c *Cluster) reconcile(now time.Time) {
	f := c.raft.r.GetConfiguration()
	if err := f.Error(); err != nil {
		c.logger.Warn("reconcile: read raft configuration", "err", err)
		return
	}
	servers := f.Configuration().Servers
	c.raft.thin.setNonVoters(servers)
	members := c.gossip.members()
	c.removeGone(servers, members, now)
	c.addNew(servers, members)
	c.replaceFailedVoter(servers, members, now)
}

// removeGone removes members that left, and members failed (or unknown
// to gossip) for longer than cluster_reap.
func (c *Cluster) removeGone(servers []raft.Server, members map[string]memberState, now time.Time) {
	self := raft.ServerID(c.id.Node)
	for _, s := range servers {
		if s.ID == self {
			continue
		}
		m, known := members[string(s.ID)]
		reason := ""
		switch {
		case !known:
			first, ok := c.unknown[s.ID]
			if !ok {
				c.unknown[s.ID] = now
			} else if now.Sub(first) > c.cfg.Reap {
				reason = "unknown to gossip past cluster_reap"
			}
		case m.State == memberlist.StateLeft:
			reason = "left"
		case m.State == memberlist.StateDead && now.Sub(m.Since) > c.cfg.Reap:
			reason = "failed past cluster_reap"
		}
		if reason == "" {
			continue
		}
		delete(c.unknown, s.ID)
		if err := c.raft.r.RemoveServer(s.ID, 0, 0).Error(); err != nil {
			c.logger.Warn("could not remove member from raft", "member", s.ID, "err", err)
			continue
		}
		c.logger.Info("removed member from raft", "member", s.ID, "reason", reason)
	}
}

// addNew adds alive members of this fleet that raft does not know.
func (c *Cluster) addNew(servers []raft.Server, members map[string]memberState) {
	in := make(map[raft.ServerID]bool, len(servers))
	voters := 0
	for _, s := range servers {
		in[s.ID] = true
		if s.Suffrage == raft.Voter {
			voters++
		}
	}
	fleet := c.fleetID()
	for name, m := range members {
		id := raft.ServerID(name)
		if in[id] || m.State != memberlist.StateAlive || m.Meta.Raft == "" {
			continue
		}
		if m.Meta.Fleet != "" && m.Meta.Fleet != fleet {
			continue // NotifyAlive keeps these out; belt and braces
		}
		addr := raft.ServerAddress(m.Meta.Raft)
		var err error
		role := "voter"
		if voters < c.cfg.Voters {
			err = c.raft.r.AddVoter(id, addr, 0, 0).Error()
			voters++
		} else {
			role = "non-voter"
			err = c.raft.r.AddNonvoter(id, addr, 0, 0).Error()
		}
		if err != nil {
			c.logger.Warn("could not add member to raft", "member", name, "err", err)
			continue
		}
		c.logger.Info("added member to raft", "member", name, "role", role)
	}
}

// replaceFailedVoter promotes a healthy non-voter when voters are short
// or one has failed past DemoteAfter, then demotes the failed one.
func (c *Cluster) replaceFailedVoter(servers []raft.Server, members map[string]memberState, now time.Time) {
	var failed, healthy *raft.Server
	voters := 0
	for i := range servers {
		s := &servers[i]
		m, known := members[string(s.ID)]
		alive := s.ID == raft.ServerID(c.id.Node) || (known && m.State == memberlist.StateAlive)
		switch {
		case s.Suffrage == raft.Voter:
			voters++
			if !alive && known && now.Sub(m.Since) > c.cfg.DemoteAfter && failed == nil {
				failed = s
			}
		case s.Suffrage == raft.Nonvoter && alive && healthy == nil:
			healthy = s
		}
	}
	if healthy == nil || (failed == nil && voters >= c.cfg.Voters) {
		return
	}
	c.raft.thin.markVoter(healthy.ID) // full heartbeats before it counts toward the lease
	if err := c.raft.r.AddVoter(healthy.ID, healthy.Address, 0, 0).Error(); err != nil {
		c.logger.Warn("could not promote member", "member", healthy.ID, "err", err)
		return
	}
	c.logger.Info("promoted member to voter", "member", healthy.ID)
	if failed == nil {
		return
	}
	if err := c.raft.r.DemoteVoter(failed.ID, 0, 0).Error(); err != nil {
		c.logger.Warn("could not demote failed voter", "member", failed.ID, "err", err)
		return
	}
	c.logger.Info("demoted failed voter", "member", failed.ID)
}
