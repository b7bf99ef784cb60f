package node

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/moxifleet/moxi/cluster"
)

// fleetCollector reports this node's view of its fleet (cluster.Status
// and the maps applied), gathered at scrape time.
type fleetCollector struct{ n *Node }

func (fleetCollector) Describe(chan<- *prometheus.Desc) {}

func (c fleetCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.n.fleet.cluster.Status()
	collectRaft(ch, st)
	collectMembers(ch, st.Members)
	c.collectMapAges(ch)
}

// gauge sends one gauge sample; labels are name, value pairs.
func gauge(ch chan<- prometheus.Metric, name, help string, v float64, labels ...string) {
	var keys, vals []string
	for i := 0; i+1 < len(labels); i += 2 {
		keys, vals = append(keys, labels[i]), append(vals, labels[i+1])
	}
	ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(name, help, keys, nil), prometheus.GaugeValue, v, vals...)
}

func boolValue01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func collectRaft(ch chan<- prometheus.Metric, st cluster.Status) {
	for _, state := range []string{"Follower", "Candidate", "Leader", "Shutdown"} {
		gauge(ch, "moxi_fleet_raft_state", "1 for this node's raft state.", boolValue01(st.RaftState == state), "state", state)
	}
	gauge(ch, "moxi_fleet_leader", "1 while this node is the fleet's established leader (it runs the config source).",
		boolValue01(st.Established))
	gauge(ch, "moxi_fleet_raft_term", "raft term this node is in.", float64(st.Term))
	gauge(ch, "moxi_fleet_raft_last_index", "Last raft log index this node has.", float64(st.LastIndex))
	gauge(ch, "moxi_fleet_raft_applied_index", "Last raft log index this node has applied to its maps.", float64(st.Applied))
	ch <- prometheus.MustNewConstMetric(prometheus.NewDesc("moxi_fleet_leadership_changes_total",
		"Times this node became or stopped being the leader.", nil, nil), prometheus.CounterValue, float64(st.LeadershipChanges))
}

func collectMembers(ch chan<- prometheus.Metric, members []cluster.Member) {
	count := map[[2]string]int{}
	for _, m := range members {
		count[[2]string{m.Gossip, m.Role}]++
	}
	for k, v := range count {
		gauge(ch, "moxi_fleet_members", "Fleet members this node knows, by gossip state and raft role.", float64(v),
			"gossip", k[0], "role", k[1])
	}
}

func (c fleetCollector) collectMapAges(ch chan<- prometheus.Metric) {
	now := time.Now()
	f := c.n.fleet
	f.mu.Lock()
	infos := make([]mapInfo, 0, len(f.info))
	for _, mi := range f.info {
		infos = append(infos, mi)
	}
	f.mu.Unlock()
	for _, mi := range infos {
		gauge(ch, "moxi_map_age_seconds", "Seconds since the map a bucket serves with was applied on this node.",
			now.Sub(mi.AppliedAt).Seconds(), "port", strconv.Itoa(mi.Port), "bucket", mi.Bucket)
	}
}
