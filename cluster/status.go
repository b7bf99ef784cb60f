package cluster

import (
	"sort"
	"strconv"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/raft"
)

// Status is this node's view of the fleet, for people and scripts.
type Status struct {
	Node        string `json:"node"`
	Fleet       string `json:"fleet_id"`
	RaftState   string `json:"raft_state"`
	Leader      string `json:"leader"`
	LeaderAddr  string `json:"leader_addr"`
	Established bool   `json:"leader_established"`
	Term        uint64 `json:"term"`
	LastIndex   uint64 `json:"last_index"`
	CommitIndex uint64 `json:"commit_index"`
	Applied     uint64 `json:"applied_index"`
	Snapshot    uint64 `json:"last_snapshot_index"`
	// LeadershipChanges counts the times this node became or stopped
	// being the leader since it started.
	LeadershipChanges uint64   `json:"leadership_changes"`
	Members           []Member `json:"members"`
}

// Member is one fleet member as gossip and raft see it.
type Member struct {
	Name    string `json:"name"`
	Addr    string `json:"addr"`
	Gossip  string `json:"gossip"` // alive, suspect, failed, left, unknown
	Role    string `json:"role"`   // voter, non-voter, none
	Version string `json:"version,omitempty"`
	Ports   string `json:"ports,omitempty"`
	// Admin is the member's admin HTTP address as it advertises it
	// (admin_listen); empty for a member of an older moxi.
	Admin string `json:"admin,omitempty"`
}

// Status returns this node's view of the fleet.
func (c *Cluster) Status() Status {
	r := c.raft.r
	addr, id := r.LeaderWithID()
	stats := r.Stats()
	st := Status{
		Node: c.id.Node, Fleet: c.fleetID(), RaftState: r.State().String(),
		Leader: string(id), LeaderAddr: string(addr), Established: c.established.Load(),
		Term: parseUint(stats["term"]), LastIndex: r.LastIndex(),
		CommitIndex: parseUint(stats["commit_index"]), Applied: r.AppliedIndex(),
		Snapshot:          parseUint(stats["last_snapshot_index"]),
		LeadershipChanges: c.leadershipChanges.Load(),
	}
	st.Members = c.memberList()
	return st
}

// memberList merges gossip's members with raft's configuration.
func (c *Cluster) memberList() []Member {
	roles := map[string]string{}
	if f := c.raft.r.GetConfiguration(); f.Error() == nil {
		for _, s := range f.Configuration().Servers {
			roles[string(s.ID)] = suffrageName(s.Suffrage)
		}
	}
	byName := map[string]*Member{}
	for name, m := range c.gossip.members() {
		byName[name] = &Member{Name: name, Addr: m.Addr, Gossip: gossipState(m.State),
			Role: "none", Version: m.Meta.Version, Ports: m.Meta.Ports, Admin: m.Meta.Admin}
	}
	for name, role := range roles {
		if byName[name] == nil {
			byName[name] = &Member{Name: name, Gossip: "unknown"}
		}
		byName[name].Role = role
	}
	out := make([]Member, 0, len(byName))
	for _, m := range byName {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func suffrageName(s raft.ServerSuffrage) string {
	if s == raft.Voter {
		return "voter"
	}
	return "non-voter"
}

func gossipState(s memberlist.NodeStateType) string {
	switch s {
	case memberlist.StateAlive:
		return "alive"
	case memberlist.StateSuspect:
		return "suspect"
	case memberlist.StateDead:
		return "failed"
	case memberlist.StateLeft:
		return "left"
	}
	return "unknown"
}

func parseUint(s string) uint64 {
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}
