package node

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/moxifleet/moxi/mapstore"
)

// lagBuckets are moxi_map_propagation_seconds' upper bounds: 1 ms (raft
// on loopback) to 10 s (a follower that was cut off for a while), about
// 2.5x apart.
func lagBuckets() []float64 {
	return []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
}

// lagMeter measures the fleet's map propagation lag on this node: from
// the leader's clock when it proposed an entry (ConfigEntry.ProposedAt)
// to this node's clock when it applied the entry's map.
//
// Only entries proposed since this process started count. A node applies
// old entries at start: the state file it kept, a leader's snapshot, or
// the raft log replayed to a node that is new or was down, and their lag
// would be how long the map had been in force, not how long it took to
// get here. Comparing with the process's start tells those apart without
// a sanity bound on the lag, which would also hide the real, long lag of
// a node that was cut off from the leader while it ran. An entry from a
// moxi before the stamp (0) has no lag to tell.
type lagMeter struct {
	since time.Time // this process's start
	hist  prometheus.Histogram
}

func newLagMeter(since time.Time) *lagMeter {
	return &lagMeter{since: since, hist: prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "moxi_map_propagation_seconds",
		Help: "Time from the fleet's leader proposing a map to this node applying it, " +
			"for maps proposed while this node runs (leader's and this node's wall clocks).",
		Buckets: lagBuckets(),
	})}
}

// observe records the lag of rec's map, applied at now, and returns it in
// milliseconds for /status; nil when it does not count (see lagMeter).
// Clocks that disagree can make the lag negative: it is recorded as 0,
// since the entry did arrive, faster than the clocks can tell.
func (m *lagMeter) observe(rec mapstore.ConfigRecord, now time.Time) *float64 {
	if rec.ProposedAt == 0 {
		return nil
	}
	proposed := time.Unix(0, rec.ProposedAt)
	if proposed.Before(m.since) {
		return nil
	}
	lag := max(now.Sub(proposed), 0)
	m.hist.Observe(lag.Seconds())
	ms := float64(lag) / float64(time.Millisecond)
	return &ms
}
