package node

// The map propagation lag: the leader stamps the entries it proposes, and
// each node records the time from that stamp to applying the map, for
// entries proposed since it started only.

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/moxifleet/moxi/mapstore"
)

// histogramOf gathers c as a scrape would and returns its one
// histogram's sample count, sum, and cumulative count per upper bound.
func histogramOf(t *testing.T, c prometheus.Collector) (uint64, float64, map[float64]uint64) {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gather: %v, %d families", err, len(mfs))
	}
	h := mfs[0].GetMetric()[0].GetHistogram()
	buckets := map[float64]uint64{}
	for _, b := range h.GetBucket() {
		buckets[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	return h.GetSampleCount(), h.GetSampleSum(), buckets
}

func TestLagMeter(t *testing.T) {
	start := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	now := start.Add(time.Hour)
	stamped := func(at time.Time) mapstore.ConfigRecord {
		return mapstore.ConfigRecord{ConfigEntry: mapstore.ConfigEntry{ProposedAt: at.UnixNano()}}
	}
	m := newLagMeter(start)
	tests := []struct {
		name   string
		rec    mapstore.ConfigRecord
		wantMS float64 // -1: not counted
	}{
		{"live, 30 ms", stamped(now.Add(-30 * time.Millisecond)), 30},
		{"live, 7 s", stamped(now.Add(-7 * time.Second)), 7000},
		{"proposed before this node started: a replay", stamped(start.Add(-time.Millisecond)), -1},
		{"unstamped: an older leader", mapstore.ConfigRecord{}, -1},
		{"the leader's clock ahead of ours", stamped(now.Add(time.Second)), 0},
	}
	for _, tt := range tests {
		got := m.observe(tt.rec, now)
		switch {
		case tt.wantMS < 0 && got != nil:
			t.Errorf("%s: lag %v ms, want not counted", tt.name, *got)
		case tt.wantMS >= 0 && (got == nil || math.Abs(*got-tt.wantMS) > 1e-9):
			t.Errorf("%s: lag %v, want %v ms", tt.name, got, tt.wantMS)
		}
	}
	count, sum, buckets := histogramOf(t, m.hist)
	if count != 3 || math.Abs(sum-7.03) > 1e-9 {
		t.Errorf("histogram: %d samples summing %v s, want 3 summing 7.03", count, sum)
	}
	// 0 and 30 ms under 50 ms; 7 s only from the 10 s bucket on.
	for le, want := range map[float64]uint64{0.001: 1, 0.05: 2, 5: 2, 10: 3} {
		if buckets[le] != want {
			t.Errorf("bucket le=%v: %d, want %d (%v)", le, buckets[le], want, buckets)
		}
	}
}

// A follower applying a stamped entry records its lag in the histogram
// and in what /status shows; one proposed before the node started (the
// state it had on disk) is applied without a lag.
func TestFleetApplyRecordsLag(t *testing.T) {
	const spec = "11211=127.0.0.1:11311,127.0.0.1:11312"
	n, logs := newApplyNode(t)
	n.fleet.lag = newLagMeter(time.Now().Add(-time.Minute)) // the node started a minute ago
	old := n.fleet.lag.since.Add(-time.Hour).UnixNano()
	applyEntry(t, n, 1, mapstore.EncodeSetSource(mapstore.Source{Kind: "static", Spec: spec, FleetID: "f1"}))
	applyEntry(t, n, 2, mapstore.EncodeSetConfig(mapstore.ConfigEntry{Section: 0, Origin: "static", Body: []byte(spec), ProposedAt: old}))
	buildMaps(t, n)
	applyAll(n)
	checkInfo(t, n, "11211/default", 2, 2)
	if mi := n.fleet.info["11211/default"]; mi.PropagationMS != nil {
		t.Errorf("a map proposed before the node started has a lag: %v ms", *mi.PropagationMS)
	}
	if count, _, _ := histogramOf(t, n.fleet.lag.hist); count != 0 {
		t.Errorf("replayed entry observed: %d samples", count)
	}

	const next = "11211=127.0.0.1:11311"
	proposed := time.Now().Add(-20 * time.Millisecond)
	applyEntry(t, n, 3, mapstore.EncodeSetConfig(mapstore.ConfigEntry{Section: 0, Origin: "static", Body: []byte(next), ProposedAt: proposed.UnixNano()}))
	before := time.Now()
	applyAll(n)
	bound := time.Since(proposed)
	checkInfo(t, n, "11211/default", 3, 1)
	mi := n.fleet.info["11211/default"]
	if mi.PropagationMS == nil || *mi.PropagationMS < float64(before.Sub(proposed))/1e6 || *mi.PropagationMS > float64(bound)/1e6 {
		t.Fatalf("lag of a live entry: %v, want between %v and %v (log:\n%s)", mi.PropagationMS, before.Sub(proposed), bound, logs)
	}
	if count, sum, _ := histogramOf(t, n.fleet.lag.hist); count != 1 || math.Abs(sum*1e3-*mi.PropagationMS) > 1e-6 {
		t.Errorf("histogram: %d samples summing %v s, want 1 of %v ms", count, sum, *mi.PropagationMS)
	}
	js, err := json.Marshal(mi)
	if err != nil || !strings.Contains(string(js), `"propagation_ms":`) {
		t.Errorf("/status map %s (%v) lacks propagation_ms", js, err)
	}
}

// The leader stamps what it proposes with its clock.
func TestProposeStamps(t *testing.T) {
	const url = "http://10.0.0.1:8091/pools/default/bucketsStreamingConfig/default"
	n, _ := newApplyNode(t)
	applyEntry(t, n, 1, mapstore.EncodeSetSource(mapstore.Source{Kind: "rest", Spec: url, FleetID: "f1"}))
	p := &countingProposer{}
	before := time.Now().UnixNano()
	if err := n.propose(context.Background(), p, mapstore.ConfigEntry{Section: 0, Origin: url, Body: restBody(1, [4]int{0, 1, 0, 1}, "")}); err != nil {
		t.Fatal(err)
	}
	after := time.Now().UnixNano()
	if len(p.proposed) != 1 {
		t.Fatalf("%d entries proposed, want 1", len(p.proposed))
	}
	_, v, err := mapstore.DecodeCommand(p.proposed[0])
	if err != nil {
		t.Fatal(err)
	}
	if e := v.(mapstore.ConfigEntry); e.ProposedAt < before || e.ProposedAt > after {
		t.Errorf("ProposedAt %d, want between %d and %d", e.ProposedAt, before, after)
	}
}
