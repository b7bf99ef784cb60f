package node

// A fleet follower that cannot parse an entry the fleet agreed on (only a
// moxi of another version could get there: the leader checks before it
// replicates) logs it and keeps serving its last good map. The Node is
// built in-package as buildFleetProxy builds it, without raft or gossip:
// the store is fed entries directly and each record goes through
// applyRecord as applyFleet sends it.

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/fixtures"
	"github.com/moxifleet/moxi/mapstore"
)

// newApplyNode is a fleet Node with no cluster: a logger writing to the
// returned buffer (applyRecord runs on the test's goroutine, so a plain
// buffer will do), default behaviors and an empty store.
func newApplyNode(t *testing.T) (*Node, *bytes.Buffer) {
	t.Helper()
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := ParseBehavior("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	f := &fleet{store: mapstore.NewStore(), reload: make(chan struct{}, 1), lag: newLagMeter(time.Now()),
		static: map[int]*liveMap{}, applied: map[int]uint64{}, info: map[string]mapInfo{}}
	return &Node{logger: logger, behavior: b, fleet: f, level: new(slog.LevelVar)}, logs
}

// applyEntry applies one raft entry to the node's store at index, as the
// cluster's FSM does.
func applyEntry(t *testing.T, n *Node, index uint64, data []byte) {
	t.Helper()
	if _, err := n.fleet.store.Apply(index, data, time.Now()); err != nil {
		t.Fatalf("store.Apply %d: %v", index, err)
	}
}

// applyAll is one pass of applyFleet: every section's record, in order.
func applyAll(n *Node) {
	for _, rec := range n.fleet.store.State().Configs {
		n.applyRecord(rec)
	}
}

// buildMaps builds the buckets and feeds as buildFleetProxy does, without
// starting the proxy.
func buildMaps(t *testing.T, n *Node) {
	t.Helper()
	st := n.fleet.store.State()
	if !ready(st) {
		t.Fatalf("store not ready: %+v", st)
	}
	if st.Source.Kind == "rest" {
		cc, err := ParseClusterConfig(st.Source.Spec)
		if err != nil || cc.REST == nil {
			t.Fatalf("REST source %q: %v", st.Source.Spec, err)
		}
		n.proxyCfg.Buckets, n.proxyCfg.Pools, n.feeds, err = n.restBuckets(cc.REST)
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	var err error
	if n.proxyCfg.Buckets, err = n.fleet.staticBuckets(st, n.behavior); err != nil {
		t.Fatal(err)
	}
}

// checkRejected checks that the log has applyRecord's error for version.
func checkRejected(t *testing.T, logs *bytes.Buffer, version string) {
	t.Helper()
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "level=ERROR") &&
			strings.Contains(line, "fleet config rejected here; keeping the last good map") &&
			strings.Contains(line, "version="+version+" ") {
			return
		}
	}
	t.Errorf("no error logged for the broken entry %s; log:\n%s", version, logs.String())
}

func checkInfo(t *testing.T, n *Node, key string, version uint64, servers int) {
	t.Helper()
	n.fleet.mu.Lock()
	mi, ok := n.fleet.info[key]
	n.fleet.mu.Unlock()
	if !ok || mi.Version != version || mi.Servers != servers {
		t.Errorf("status of %s: %+v (present %v), want version %d with %d servers", key, mi, ok, version, servers)
	}
}

// TestFleetApplyKeepsLastRESTMap: a REST fleet's follower applies a real
// streamed bucket config, then keeps it when a later entry is not JSON.
func TestFleetApplyKeepsLastRESTMap(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(fixtures.SharedTestdata(t, "node"), "rest", "bucketsStreamingConfig-default.body"))
	if err != nil {
		t.Fatal(err)
	}
	body = bytes.TrimSpace(body)
	const url = "http://127.0.0.1:8091/pools/default/bucketsStreamingConfig/default"
	n, logs := newApplyNode(t)
	applyEntry(t, n, 1, mapstore.EncodeSetSource(mapstore.Source{Kind: "rest", Spec: url, FleetID: "f1"}))
	applyEntry(t, n, 2, mapstore.EncodeSetConfig(mapstore.ConfigEntry{Section: 0, Origin: url, Body: body}))
	buildMaps(t, n)
	if len(n.feeds) != 1 || n.feeds[0].bucket != "default" {
		t.Fatalf("feeds: %+v", n.feeds)
	}
	applyAll(n)
	first := n.feeds[0].maps.Current()
	if first == nil || first.Version != 2 || len(first.Servers) == 0 {
		t.Fatalf("map after the good entry: %+v (log:\n%s)", first, logs.String())
	}
	servers := slices.Clone(first.Servers)
	checkInfo(t, n, "11211/default", 2, len(servers))

	applyEntry(t, n, 5, mapstore.EncodeSetConfig(mapstore.ConfigEntry{Section: 0, Origin: url, Body: []byte(`{"name":"default",`)}))
	if rec, _ := n.fleet.store.State().Config(0); rec.Index != 5 {
		t.Fatalf("the store holds %+v, want the broken entry at 5", rec)
	}
	applyAll(n)
	m := n.feeds[0].maps.Current()
	if m != first || m.Version != 2 || !reflect.DeepEqual(m.Servers, servers) {
		t.Fatalf("map after the broken entry: %+v, want the first (version 2, servers %v)", m, servers)
	}
	if v := n.feeds[0].version.Load(); v != 2 {
		t.Errorf("feed version %d after the broken entry, want 2", v)
	}
	checkInfo(t, n, "11211/default", 2, len(servers))
	checkRejected(t, logs, "5")

	// The broken record is not retried on the next pass (no new log line).
	before := strings.Count(logs.String(), "fleet config rejected here")
	applyAll(n)
	if after := strings.Count(logs.String(), "fleet config rejected here"); after != before {
		t.Errorf("the broken entry was applied again: %d rejections, then %d", before, after)
	}
}

// TestFleetApplyKeepsLastStaticMap: a static fleet's follower applies a
// -z host list, then keeps it when a later entry does not parse.
func TestFleetApplyKeepsLastStaticMap(t *testing.T) {
	const spec = "11211=127.0.0.1:11311,127.0.0.1:11312"
	n, logs := newApplyNode(t)
	applyEntry(t, n, 1, mapstore.EncodeSetSource(mapstore.Source{Kind: "static", Spec: spec, FleetID: "f1"}))
	applyEntry(t, n, 3, mapstore.EncodeSetConfig(mapstore.ConfigEntry{Section: 0, Origin: "static", Body: []byte(spec)}))
	buildMaps(t, n)
	lm := n.fleet.static[11211]
	if lm == nil {
		t.Fatalf("no map for port 11211: %+v", n.fleet.static)
	}
	applyAll(n)
	first := lm.Current()
	if first == nil || first.Version != 3 || len(first.Servers) != 2 {
		t.Fatalf("map after the good entry: %+v (log:\n%s)", first, logs.String())
	}
	servers := slices.Clone(first.Servers)
	checkInfo(t, n, "11211/default", 3, 2)

	applyEntry(t, n, 7, mapstore.EncodeSetConfig(mapstore.ConfigEntry{Section: 0, Origin: "static", Body: []byte("11211=127.0.0.1:11313,127.0.0.1:notaport")}))
	applyAll(n)
	m := lm.Current()
	if m != first || m.Version != 3 || !reflect.DeepEqual(m.Servers, servers) {
		t.Fatalf("map after the broken entry: %+v, want the first (version 3, servers %v)", m, servers)
	}
	checkInfo(t, n, "11211/default", 3, 2)
	checkRejected(t, logs, "7")
}
