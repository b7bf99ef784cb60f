package e2e

// Fleet tests of issue 11: real moxi processes forming a fleet, each on its
// own loopback address, in front of cmd/membase-mock. The mock's
// streams_open counter shows how many config subscriptions the fleet holds:
// the whole point of a fleet is that it is always one.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

// fleetMockArgs start a mock of two data nodes; extra are more flags.
func fleetMockArgs(extra ...string) []string {
	return append([]string{"-rest", "127.0.0.1:0", "-nodes", "2", "-vbuckets", "256"}, extra...)
}

// checkStreams fails t unless the mock has exactly open streams.
func checkStreams(t testing.TB, m *mockProc, open int) fleetMockStats {
	t.Helper()
	s, err := mockStatsOf(m)
	if err != nil {
		t.Fatal(err)
	}
	if s.StreamsOpen != open {
		t.Errorf("mock streams_open = %d, want %d (%+v)", s.StreamsOpen, open, s)
	}
	return s
}

// TestFleetOneStream: a 3-node fleet costs the mock one stream, every node
// serves the same map version, and a key written through any node is read
// through every other.
func TestFleetOneStream(t *testing.T) {
	m := startMock(t, fleetMockArgs()...)
	start := time.Now()
	f := startFleet(t, 3, fleetOptions{Source: fleetSource(m)})
	v, sts := f.waitStable(t, f.Nodes, 200*time.Millisecond, startTimeout, nil)
	t.Logf("3 nodes serve map version %d, %v after the first node started; applied on all within %v",
		v, time.Since(start).Round(time.Millisecond), appliedSpread(sts, v))
	for i, st := range sts {
		if st.Maps[0].Servers != 2 {
			t.Errorf("node %d: map with %d servers, want 2", i, st.Maps[0].Servers)
		}
		if !strings.Contains(st.Maps[0].Source, m.rest) {
			t.Errorf("node %d: map source %q, want the mock's", i, st.Maps[0].Source)
		}
	}

	sampler := sampleStreams(m, 1, 20*time.Millisecond)
	kvs := make([]map[string]string, len(f.Nodes))
	for i, nd := range f.Nodes {
		c := nd.client()
		waitServing(t, c, startTimeout)
		kvs[i] = writeKeys(t, c, fmt.Sprintf("one-%d", i), 200)
	}
	for i, nd := range f.Nodes {
		for j, kv := range kvs {
			if err := checkKeys(nd.client(), kv); err != nil {
				t.Errorf("node %d reading keys written through node %d: %v", i, j, err)
			}
		}
	}
	// The sampler runs for at least half a second, client work or not.
	sampler.waitSamples(t, 25, 5*time.Second)
	sampler.finish(t, 25)
	if s := checkStreams(t, m, 1); s.StreamsTotal != 1 {
		t.Errorf("streams_total = %d: the fleet opened more than one stream", s.StreamsTotal)
	}
	for i, nd := range f.Nodes {
		if code, err := nd.health(); err != nil || code != http.StatusOK {
			t.Errorf("node %d /health: %d, %v", i, code, err)
		}
	}
	// /metrics: the map version a node serves is the one /status shows.
	st, err := f.Nodes[0].status()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for name, v := range scrape(t, "http://"+f.Nodes[0].Admin+"/metrics") {
		if strings.HasPrefix(name, "moxi_map_version{") {
			found = true
			if uint64(v) != st.version() {
				t.Errorf("%s = %v, /status says version %d", name, v, st.version())
			}
		}
	}
	if !found {
		t.Error("/metrics has no moxi_map_version")
	}
	// Exactly one node says it leads; each counts three alive members.
	leaders := 0
	for _, nd := range f.Nodes {
		m := scrape(t, "http://"+nd.Admin+"/metrics")
		leaders += int(m["moxi_fleet_leader"])
		alive := 0.0
		for name, v := range m {
			if strings.HasPrefix(name, "moxi_fleet_members{") && strings.Contains(name, `gossip="alive"`) {
				alive += v
			}
		}
		if alive != 3 {
			t.Errorf("%s: moxi_fleet_members alive = %v, want 3", nd.Name, alive)
		}
	}
	if leaders != 1 {
		t.Errorf("%d nodes report moxi_fleet_leader 1, want 1", leaders)
	}
	checkPromtool(t, scrapeRaw(t, "http://"+f.Nodes[0].Admin+"/metrics"))
	// Profiles are served only when asked for (-Z admin_pprof=true).
	if resp, _, err := f.Nodes[0].get("/debug/pprof/cmdline"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("/debug/pprof/cmdline without admin_pprof: %v, %v; want 404", resp, err)
	}
}

// TestFleetRebalanceUnderLoad: 7 nodes under client load while the mock
// rebalances from 2 to 4 data nodes. Clients see no error, the fleet holds
// one stream throughout, and every node ends on the final map.
//
// The nodes run raft's production timings: with a tighter leader lease, 7
// nodes under this load on 2 cores lost their leader now and then
// ("failed to contact quorum of nodes, stepping down"), and the stream was
// closed and reopened. The mock moves a batch every 20 ms: a fleet node
// learns a config only when raft has committed it, and before proxycore's
// NOT_MY_VBUCKET retries went on for a time window (vbucketRetryWindow)
// as well as a count, nodes gave up before the map arrived in most runs
// ("SERVER_ERROR a2b not_my_vbucket", or a get answered as a miss).
func TestFleetRebalanceUnderLoad(t *testing.T) {
	const nodes = 7
	// Batches of 64 of 256 vbuckets 20 ms apart, each published 20 ms
	// after it moved: clients meet NOT_MY_VBUCKET the proxies must hide.
	m := startMock(t, fleetMockArgs("-rebalance-step", "20ms", "-rebalance-batch", "64", "-publish-lag", "20ms")...)
	f := startFleet(t, nodes, fleetOptions{Source: fleetSource(m)})
	v0, _ := f.waitStable(t, f.Nodes, 200*time.Millisecond, startTimeout, nil)
	before := checkStreams(t, m, 1)

	sampler := sampleStreams(m, 1, 20*time.Millisecond)
	load := startFleetLoad(t, m, f.Nodes, 2, 1_000_000)
	load.waitOps(t, 500, 10*time.Second)
	rebStart := time.Now()
	rebalanceMock(t, m, 4)
	rebDone := time.Since(rebStart)
	v, sts := f.waitStable(t, f.Nodes, 200*time.Millisecond, 15*time.Second, finalMap(f.Nodes, 4))
	var lastApplied time.Time
	for _, st := range sts {
		lastApplied = maxTime(lastApplied, st.Maps[0].AppliedAt)
	}
	load.waitOps(t, 500, 10*time.Second)
	load.finish(t)
	sampler.finish(t, 20)

	after := checkStreams(t, m, 1)
	t.Logf("%d nodes: versions %d -> %d, %d configs streamed, %d NOT_MY_VBUCKET; the rebalance took %v; "+
		"the final map was applied on the last node %v after the mock said the rebalance was over, on all within %v",
		nodes, v0, v, after.ConfigsSent-before.ConfigsSent, after.NotMyVBucket-before.NotMyVBucket, rebDone.Round(time.Millisecond),
		lastApplied.Sub(rebStart.Add(rebDone)).Round(time.Millisecond), appliedSpread(sts, v))
	if after.StreamsTotal != before.StreamsTotal {
		t.Errorf("streams_total %d -> %d: the fleet reconnected during the rebalance", before.StreamsTotal, after.StreamsTotal)
	}
	if v <= v0 {
		t.Errorf("final version %d, not above the first %d", v, v0)
	}
	// Every node routes by the final map: reading through each one costs
	// the mock no NOT_MY_VBUCKET.
	kv := writeKeys(t, f.Nodes[0].client(), "final", 300)
	nmvb := after.NotMyVBucket
	for i, nd := range f.Nodes {
		if err := checkKeys(nd.client(), kv); err != nil {
			t.Errorf("node %d after the rebalance: %v", i, err)
		}
	}
	if s := checkStreams(t, m, 1); s.NotMyVBucket != nmvb {
		t.Errorf("reads through every node after the rebalance got %d NOT_MY_VBUCKET: some node routes by an older map",
			s.NotMyVBucket-nmvb)
	}
}

// finalMap accepts statuses when every node's proxy serves a map of
// servers servers without a forward map, the same config everywhere: the
// map a rebalance ends with (while it runs, every map has a forward map).
func finalMap(nodes []*fleetNode, servers int) func([]fleetStatus) error {
	return func(sts []fleetStatus) error {
		var first string
		for i, st := range sts {
			if st.Maps[0].Servers != servers {
				return fmt.Errorf("%s: map of %d servers", st.Node, st.Maps[0].Servers)
			}
			cfg, ver, err := proxyMapConfig(nodes[i].Addr)
			switch {
			case err != nil:
				return err
			case ver != st.version():
				return fmt.Errorf("%s: the proxy serves version %d, /status says %d", st.Node, ver, st.version())
			case strings.Contains(cfg, "vBucketMapForward"):
				return fmt.Errorf("%s: version %d has a forward map", st.Node, ver)
			case i == 0:
				first = cfg
			case cfg != first:
				return fmt.Errorf("%s serves another config than %s at version %d", st.Node, sts[0].Node, ver)
			}
		}
		return nil
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// TestFleetLeaderKill: kill -9 of the leader under load on the followers.
// Their clients see no error, and a new leader opens a new stream while the
// dead one's is gone.
func TestFleetLeaderKill(t *testing.T) {
	m := startMock(t, fleetMockArgs()...)
	f := startFleet(t, 3, fleetOptions{Source: fleetSource(m)})
	lead, followers := f.leader(t, f.Nodes)
	v := f.waitConverged(t, f.Nodes, startTimeout, nil)
	before := checkStreams(t, m, 1)

	load := startFleetLoad(t, m, followers, 2, 1_000_000)
	load.waitOps(t, 300, 10*time.Second)
	killed := time.Now()
	lead.kill9(t)
	var stream time.Duration
	eventually(t, 15*time.Second, func() error {
		s, err := mockStatsOf(m)
		if err != nil {
			return err
		}
		if s.StreamsTotal <= before.StreamsTotal || s.StreamsOpen != 1 {
			return fmt.Errorf("streams_total %d (was %d), streams_open %d", s.StreamsTotal, before.StreamsTotal, s.StreamsOpen)
		}
		stream = time.Since(killed)
		return nil
	})
	newLead, _ := f.leader(t, followers)
	elected := time.Since(killed)
	load.waitOps(t, 300, 10*time.Second)
	load.finish(t)
	t.Logf("leader %s killed: new stream open after %v (new leader %s seen by %v)",
		lead.Name, stream.Round(time.Millisecond), newLead.Name, elected.Round(time.Millisecond))
	if s := checkStreams(t, m, 1); s.StreamsTotal != before.StreamsTotal+1 {
		t.Errorf("streams_total %d -> %d, want one new stream", before.StreamsTotal, s.StreamsTotal)
	}
	for _, nd := range followers {
		st, err := nd.status()
		if err != nil {
			t.Fatal(err)
		}
		// The new leader's stream re-sends the layout the fleet has (with
		// another uptime): no new version.
		if st.version() != v {
			t.Errorf("%s at version %d after the kill, was %d: a new version without a layout change", nd.Name, st.version(), v)
		}
	}
}

// TestFleetRestartServesLastMap: every node is killed; one restarted alone
// serves its last map within a second although no leader can be elected,
// then catches up once the others are back and a rebalance makes a new map.
func TestFleetRestartServesLastMap(t *testing.T) {
	m := startMock(t, fleetMockArgs("-rebalance-step", "10ms")...)
	f := startFleet(t, 3, fleetOptions{Source: fleetSource(m)})
	_, followers := f.leader(t, f.Nodes)
	x := followers[0]
	v, _ := f.waitStable(t, f.Nodes, 200*time.Millisecond, startTimeout, nil)
	kv := writeKeys(t, x.client(), "restart", 100)
	for _, nd := range f.Nodes {
		nd.kill9(t)
	}
	eventually(t, 5*time.Second, func() error {
		s, err := mockStatsOf(m)
		if err == nil && s.StreamsOpen != 0 {
			err = fmt.Errorf("streams_open %d with the fleet dead", s.StreamsOpen)
		}
		return err
	})

	started := time.Now()
	x.restart(t)
	c := x.client()
	c.Timeout = 500 * time.Millisecond
	// A get answered with the value written before, and /health 200, as
	// soon as the process is up: the map comes from cluster_data.
	var ready time.Duration
	eventually(t, 10*time.Second, func() error {
		it, err := c.Get("restart-0")
		if err != nil {
			return fmt.Errorf("get: %w", err)
		}
		if string(it.Value) != kv["restart-0"] {
			return fmt.Errorf("restart-0 = %q, want %q", it.Value, kv["restart-0"])
		}
		if code, err := x.health(); err != nil || code != http.StatusOK {
			return fmt.Errorf("/health: %d, %v", code, err)
		}
		ready = time.Since(started)
		return nil
	})
	t.Logf("%s restarted alone: get answered and /health 200 %v after the start", x.Name, ready.Round(time.Millisecond))
	if ready > time.Second {
		t.Errorf("serving %v after the restart, want within 1s", ready)
	}
	st := x.waitStatus(t, time.Second, func(st fleetStatus) error {
		if !st.Serving || st.version() == 0 {
			return fmt.Errorf("serving %v, version %d", st.Serving, st.version())
		}
		return nil
	})
	if st.version() != v || st.RaftState == "Leader" || st.Leader != "" {
		t.Errorf("restarted alone: version %d (want %d), raft %s, leader %q (want none)", st.version(), v, st.RaftState, st.Leader)
	}
	if err := checkKeys(c, kv); err != nil {
		t.Errorf("restarted alone: %v", err)
	}
	checkStreams(t, m, 0) // nobody leads, nobody streams

	// The others come back: a leader, one stream, the same version.
	for _, nd := range f.Nodes {
		if nd != x {
			nd.restart(t)
		}
	}
	noRegress := func(sts []fleetStatus) error {
		for _, st := range sts {
			if st.Node == x.Name && st.version() < v {
				t.Errorf("%s went back to version %d from %d", x.Name, st.version(), v)
			}
		}
		return nil
	}
	f.waitConverged(t, f.Nodes, 3*startTimeout, noRegress)
	eventually(t, 10*time.Second, func() error {
		s, err := mockStatsOf(m)
		if err == nil && s.StreamsOpen != 1 {
			err = fmt.Errorf("streams_open %d", s.StreamsOpen)
		}
		return err
	})
	// A rebalance to 3 data nodes makes new maps; x follows them.
	m.post(t, "/mock/rebalance?nodes=3&wait=1", http.StatusOK)
	final := finalMap(f.Nodes, 3)
	v2, sts := f.waitStable(t, f.Nodes, 200*time.Millisecond, 15*time.Second, func(sts []fleetStatus) error {
		if err := noRegress(sts); err != nil {
			return err
		}
		return final(sts)
	})
	t.Logf("after the restart and a rebalance: version %d -> %d on every node, applied on all within %v",
		v, v2, appliedSpread(sts, v2))
	if v2 <= v {
		t.Errorf("version %d after the rebalance, not above %d", v2, v)
	}
	if err := checkKeys(x.client(), kv); err != nil {
		t.Errorf("after the rebalance: %v", err)
	}
	checkStreams(t, m, 1)
}

// TestFleetSigtermLeader: SIGTERM makes the leader hand leadership to
// another node, exit 0 within seconds, and leave raft at once, not after
// cluster_reap.
func TestFleetSigtermLeader(t *testing.T) {
	m := startMock(t, fleetMockArgs()...)
	f := startFleet(t, 3, fleetOptions{Source: fleetSource(m)})
	lead, rest := f.leader(t, f.Nodes)
	before := checkStreams(t, m, 1)
	load := startFleetLoad(t, m, rest, 2, 1_000_000)
	load.waitOps(t, 200, 10*time.Second)

	p := lead.proc()
	termed := time.Now()
	lead.sigterm(t)
	// Leadership moves and the old leader exits.
	var newLeader string
	var elected, exited time.Duration
	eventually(t, 10*time.Second, func() error {
		if exited == 0 && p.exited() {
			exited = time.Since(termed)
		}
		if elected == 0 {
			sts, err := statuses(rest)
			if err != nil {
				return err
			}
			if _, err := converged(rest, sts); err == nil {
				newLeader, elected = sts[0].Leader, time.Since(termed)
			}
		}
		if exited == 0 || elected == 0 {
			return fmt.Errorf("after %v: exited %v, new leader %q at %v", time.Since(termed), exited, newLeader, elected)
		}
		return nil
	})
	load.waitOps(t, 200, 10*time.Second)
	load.finish(t)
	code := p.cmd.ProcessState.ExitCode()
	t.Logf("SIGTERM to leader %s: new leader %s seen after %v, exit %d after %v",
		lead.Name, newLeader, elected.Round(time.Millisecond), code, exited.Round(time.Millisecond))
	if code != 0 {
		t.Errorf("the old leader exited %d, want 0", code)
	}
	if exited > 5*time.Second {
		t.Errorf("the old leader took %v to exit", exited)
	}
	out := p.Output()
	if !strings.Contains(out, "handed leadership off before leaving") {
		t.Errorf("the old leader did not hand leadership off first; its output:\n%s", tailLines(out, 40))
	}
	// The others take it out of raft at once: it left, it did not fail,
	// so it must not wait for cluster_reap (72h).
	err := pollUntil(5*time.Second, func() error {
		sts, err := statuses(rest)
		if err != nil {
			return err
		}
		var seen []string
		for _, st := range sts {
			if mb, ok := st.member(lead.Name); ok && mb.Role != "none" {
				seen = append(seen, fmt.Sprintf("%s sees it as gossip %s, raft %s", st.Node, mb.Gossip, mb.Role))
			}
		}
		if len(seen) > 0 {
			return fmt.Errorf("%v after SIGTERM: %v", time.Since(termed).Round(time.Millisecond), seen)
		}
		return nil
	})
	if err != nil {
		t.Errorf("the old leader is still in raft: %v", err)
	} else {
		t.Logf("out of raft on the others %v after SIGTERM", time.Since(termed).Round(time.Millisecond))
	}
	eventually(t, 10*time.Second, func() error {
		s, err := mockStatsOf(m)
		if err == nil && (s.StreamsOpen != 1 || s.StreamsTotal != before.StreamsTotal+1) {
			err = fmt.Errorf("streams_open %d, streams_total %d (was %d)", s.StreamsOpen, s.StreamsTotal, before.StreamsTotal)
		}
		return err
	})
	// The new leader serves and its clients still work.
	c := rest[0].client()
	if err := c.Set(&memcache.Item{Key: "after-term", Value: []byte("ok")}); err != nil {
		t.Errorf("set after the leader left: %v", err)
	}
}
