package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestFleetJoinCatchesUpBySnapshot: a fleet that has applied hundreds of
// maps has compacted its raft log, so a fresh node can only catch up by
// installing the leader's snapshot. It must, and then serve the fleet's
// current map version with the data behind it.
func TestFleetJoinCatchesUpBySnapshot(t *testing.T) {
	m := startMock(t, fleetMockArgs("-rebalance-step", "1ms", "-rebalance-batch", "1")...)
	f := startFleet(t, 2, fleetOptions{Source: fleetSource(m), Fast: true})
	for _, nodes := range []int{3, 2, 3} {
		rebalanceMock(t, m, nodes)
	}
	v, sts := f.waitStable(t, f.Nodes, 300*time.Millisecond, 20*time.Second, nil)
	if v < 200 {
		t.Fatalf("map version %d after three rebalances of 256 vbuckets one at a time; want hundreds of entries", v)
	}
	// raft keeps 128 entries behind a snapshot (cluster/raft.go): a
	// snapshot past that means the log's start is gone.
	var leaderSnap uint64
	eventually(t, 10*time.Second, func() error {
		st, err := f.Nodes[0].status()
		if err == nil && st.Snapshot <= 128 {
			err = fmt.Errorf("raft snapshot at %d, index %d", st.Snapshot, st.LastIndex)
		}
		leaderSnap = st.Snapshot
		return err
	})
	kv := writeKeys(t, f.Nodes[0].client(), "snap", 100)

	fresh := f.addNode(t)
	fresh.start(t, []string{f.Nodes[0].Name})
	st := fresh.waitStatus(t, 3*startTimeout, func(st fleetStatus) error {
		if st.version() != v || !st.Serving {
			return fmt.Errorf("version %d serving %v, want %d", st.version(), st.Serving, v)
		}
		return nil
	})
	t.Logf("fleet at map version %d, last index %d, snapshot at %d; the fresh node caught up to it with a snapshot at %d",
		v, sts[0].LastIndex, leaderSnap, st.Snapshot)
	if st.Snapshot == 0 || !hasSnapshot(fresh.dir) {
		t.Errorf("fresh node has no raft snapshot (index %d): it did not catch up by snapshot", st.Snapshot)
	}
	if err := checkKeys(fresh.client(), kv); err != nil {
		t.Errorf("reading through the fresh node: %v", err)
	}
}

// rebalanceMock moves the mock to nodes data nodes and waits until done.
func rebalanceMock(t *testing.T, m *mockProc, nodes int) {
	t.Helper()
	m.post(t, "/mock/rebalance?nodes="+strconv.Itoa(nodes), http.StatusAccepted)
	eventually(t, 30*time.Second, func() error {
		var st mockStatus
		if err := m.getJSON("/mock/status", &st); err != nil {
			return err
		}
		if st.RebalanceRunning || len(st.ServerList) != nodes {
			return fmt.Errorf("rebalance running %v, %d servers", st.RebalanceRunning, len(st.ServerList))
		}
		return nil
	})
}

// addNode adds a node, not started, on a fresh loopback address.
func (f *testFleet) addNode(t *testing.T) *fleetNode { return f.newNode(t, fleetIPs(t, 1)[0]) }

// hasSnapshot reports whether a cluster_data holds a raft snapshot.
func hasSnapshot(dir string) bool {
	entries, err := os.ReadDir(filepath.Join(dir, "snapshots"))
	return err == nil && len(entries) > 0
}
