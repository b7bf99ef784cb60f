package e2e

// Network partitions (the deployment issue): a 3-node fleet and
// membase-mock, each in a network namespace of its own on one bridge
// (netns_harness_test.go), cut apart with iptables DROP rules. Each case
// runs a client load through the majority's nodes and must cost it no
// error; each ends healed with one stream and one map everywhere, which
// the next case starts from. A watcher polls every node's /status for
// the whole test: no node may ever go back to an older map version.
//
// The nodes run raft's production timings (1 s heartbeat and election,
// 500 ms leader lease): the bounds below are derived from them.

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"
)

// stepDownBound bounds how long a leader cut off from its fleet keeps its
// REST stream: the leader lease (500 ms) checked every lease, then
// closing the subscription, with room for a loaded 2-core host.
const stepDownBound = 3 * time.Second

func TestPartition(t *testing.T) {
	lf := startLabFleet(t, 3)
	watch := watchVersions(lf.Nodes)
	defer watch.finish(t)

	t.Run("LeaderCutOff", func(t *testing.T) { partitionLeader(t, lf) })
	t.Run("FollowerStopped", func(t *testing.T) { partitionPause(t, lf) })
	t.Run("MembaseCutOff", func(t *testing.T) { partitionMembase(t, lf) })
	t.Run("MinorityCutInRebalance", func(t *testing.T) { partitionRebalance(t, lf) })
}

// partitionLeader cuts the leader off from the other nodes and from
// membase's REST address. The majority elects a leader, which opens a
// stream; the cut node steps down and drops its stream within its lease,
// and keeps serving its last map to a client on its side. The mock
// cannot see that drop (the FIN is dropped too), so its streams_open
// counts the dead stream until the heal: what it shows meanwhile is one
// new stream, and moxi_rest_stream_up on each side.
func partitionLeader(t *testing.T, lf *labFleet) {
	m := lf.mock
	lead, rest := lf.leader(t, lf.Nodes)
	v := lf.waitConverged(t, lf.Nodes, startTimeout, nil)
	before := checkStreams(t, m, 1)
	load := startFleetLoad(t, m, rest, 2, 1_000_000)
	cutLoad := startFleetLoad(t, m, []*fleetNode{lead}, 1, 1_000_000)
	load.waitOps(t, 200, 10*time.Second)

	lf.isolate(lead, true)
	healed := false
	heal := func() {
		if !healed {
			healed = true
			lf.lab.heal(lf.ns[lead.Name])
		}
	}
	defer heal()
	stepDown := waitMetric(t, lead, "moxi_rest_stream_up", 0, 10*time.Second)
	t.Logf("cut-off leader %s dropped its stream %v after the cut", lead.Name, stepDown.Round(time.Millisecond))
	if stepDown > stepDownBound {
		t.Errorf("the cut-off leader kept its stream %v, more than %v", stepDown, stepDownBound)
	}
	newLead, _ := lf.leader(t, rest)
	waitMetric(t, newLead, "moxi_rest_stream_up", 1, 10*time.Second)
	eventually(t, 10*time.Second, func() error {
		s, err := mockStatsOf(m)
		switch {
		case err != nil:
			return err
		case s.StreamsTotal != before.StreamsTotal+1:
			return fmt.Errorf("streams_total %d -> %d, want one new stream", before.StreamsTotal, s.StreamsTotal)
		case s.StreamsOpen > 2:
			t.Fatalf("streams_open %d: more than the new leader's and the cut node's dead one", s.StreamsOpen)
		}
		return nil
	})
	// Both sides serve on: the majority under its new leader, the cut
	// node its last map.
	load.waitOps(t, 200, 10*time.Second)
	cutLoad.waitOps(t, 100, 10*time.Second)
	st := lead.waitStatus(t, 5*time.Second, func(s fleetStatus) error {
		if s.RaftState == "Leader" || !s.Serving || s.version() != v {
			return fmt.Errorf("state %s, serving %v, version %d (want %d)", s.RaftState, s.Serving, s.version(), v)
		}
		return nil
	})
	t.Logf("cut-off node: raft state %s, serving version %d; new leader %s", st.RaftState, st.version(), newLead.Name)

	heal()
	start := time.Now()
	// The dead stream ends at the mock when the old leader's FIN gets
	// through: TCP's retransmission backoff, about the cut's length.
	eventually(t, 30*time.Second, func() error {
		s, err := mockStatsOf(m)
		if err == nil && s.StreamsOpen != 1 {
			err = fmt.Errorf("streams_open %d", s.StreamsOpen)
		}
		return err
	})
	vAfter := lf.waitConverged(t, lf.Nodes, 30*time.Second, nil)
	t.Logf("healed: one stream and version %d on all %v later", vAfter, time.Since(start).Round(time.Millisecond))
	stayOneStream(t, m)
	load.finish(t)
	cutLoad.finish(t)
}

// partitionPause freezes a follower (SIGSTOP) until the others have
// declared it failed, and rebalances meanwhile: the others serve on under
// one stream, and the follower, resumed, catches up on the latest map.
//
// It stays stopped for pauseFor (the 20 s), and at least until
// the leader's gossip calls it "failed" (about 5 s for 3 nodes: a missed
// probe, then memberlist's suspicion timeout) and the rebalance is over.
func partitionPause(t *testing.T, lf *labFleet) {
	m := lf.mock
	lead, followers := lf.leader(t, lf.Nodes)
	v0 := lf.waitConverged(t, lf.Nodes, startTimeout, nil)
	stopped, others := followers[0], []*fleetNode{lead, followers[1]}
	before := checkStreams(t, m, 1)
	sampler := sampleStreams(m, 1, 20*time.Millisecond)
	load := startFleetLoad(t, m, others, 2, 1_000_000)
	load.waitOps(t, 200, 10*time.Second)

	stopped.proc().Signal(t, syscall.SIGSTOP)
	stoppedAt := time.Now()
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			stopped.proc().Signal(t, syscall.SIGCONT)
		}
	}
	defer resume()
	rebalanceMock(t, m, 3)
	v, _ := lf.waitStable(t, others, 200*time.Millisecond, 15*time.Second, finalMap(others, 3))
	lead.waitStatus(t, 20*time.Second, func(s fleetStatus) error {
		if mb, ok := s.member(stopped.Name); !ok || mb.Gossip != "failed" {
			return fmt.Errorf("%s is %q in the leader's gossip", stopped.Name, mb.Gossip)
		}
		return nil
	})
	for time.Since(stoppedAt) < pauseFor {
		load.waitOps(t, 50, 10*time.Second) // the others serve on throughout
	}

	resume()
	paused := time.Since(stoppedAt)
	start := time.Now()
	stopped.waitStatus(t, 15*time.Second, func(s fleetStatus) error {
		if s.version() != v || s.Leader != lead.Name {
			return fmt.Errorf("version %d (want %d), leader %q", s.version(), v, s.Leader)
		}
		return nil
	})
	t.Logf("%s stopped %v while versions went %d -> %d; caught up %v after SIGCONT",
		stopped.Name, paused.Round(time.Millisecond), v0, v, time.Since(start).Round(time.Millisecond))
	lf.waitConverged(t, lf.Nodes, 15*time.Second, nil)
	load.waitOps(t, 200, 10*time.Second)
	load.finish(t)
	sampler.finish(t, 50)
	if s := checkStreams(t, m, 1); s.StreamsTotal != before.StreamsTotal {
		t.Errorf("streams_total %d -> %d: the fleet reopened its stream", before.StreamsTotal, s.StreamsTotal)
	}
}

// pauseFor is how long partitionPause keeps its follower frozen.
const pauseFor = 20 * time.Second

// membaseCut is how long membase's REST address stays cut off (the
// issue's 30 s): far longer than raft's election timeouts (1 s) and
// memberlist's failure detection (about 5 s), so that a fleet reacting
// to its source's loss with leader churn would show it. The stream the
// mock ends meanwhile reaches the leader only after the heal, when TCP's
// backoff retransmits the mock's FIN (up to about 25 s after a 30 s
// cut), hence the heal's longer wait.
const membaseCut = 30 * time.Second

// partitionMembase cuts membase's REST service off from every node and
// ends its stream on the mock's side while cut (POST /mock/drop-streams,
// from the observer), as an ns_server restart during a network fault
// would. Every node serves on (its data nodes stay reachable), the
// leader stays, and after the heal the leader opens one new stream,
// which carries the next rebalance to every node.
func partitionMembase(t *testing.T, lf *labFleet) {
	m := lf.mock
	lead, _ := lf.leader(t, lf.Nodes)
	v0 := lf.waitConverged(t, lf.Nodes, startTimeout, nil)
	lst, err := lead.status()
	if err != nil {
		t.Fatal(err)
	}
	before := checkStreams(t, m, 1)
	load := startFleetLoad(t, m, lf.Nodes, 2, 1_000_000)
	load.waitOps(t, 200, 10*time.Second)

	lf.cutREST()
	healed := false
	heal := func() {
		if !healed {
			healed = true
			lf.lab.heal(lf.mns)
		}
	}
	defer heal()
	cutAt := time.Now()
	m.post(t, "/mock/drop-streams", 200)
	eventually(t, 5*time.Second, func() error {
		s, err := mockStatsOf(m)
		if err == nil && s.StreamsOpen != 0 {
			err = fmt.Errorf("streams_open %d after the drop", s.StreamsOpen)
		}
		return err
	})
	// Hold the cut for membaseCut, the load running and watched.
	for time.Since(cutAt) < membaseCut {
		load.waitOps(t, 50, 10*time.Second)
	}
	sts, err := statuses(lf.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := converged(lf.Nodes, sts); err != nil || sts[0].Leader != lead.Name || sts[0].Term != lst.Term {
		t.Errorf("after %v without membase: %v; leader %q term %d, was %q term %d",
			membaseCut, err, sts[0].Leader, sts[0].Term, lead.Name, lst.Term)
	}

	heal()
	start := time.Now()
	eventually(t, 60*time.Second, func() error {
		s, err := mockStatsOf(m)
		switch {
		case err != nil:
			return err
		case s.StreamsOpen != 1 || s.StreamsTotal != before.StreamsTotal+1:
			return fmt.Errorf("streams_open %d, streams_total %d -> %d", s.StreamsOpen, before.StreamsTotal, s.StreamsTotal)
		}
		return nil
	})
	t.Logf("healed after %v: the leader's new stream opened %v later", time.Since(cutAt).Round(time.Millisecond),
		time.Since(start).Round(time.Millisecond))
	waitMetric(t, lead, "moxi_rest_stream_up", 1, 5*time.Second)
	// The new stream is live: a rebalance reaches every node by it.
	rebalanceMock(t, m, 2)
	v, _ := lf.waitStable(t, lf.Nodes, 200*time.Millisecond, 15*time.Second, finalMap(lf.Nodes, 2))
	if v <= v0 {
		t.Errorf("version %d after the rebalance, not above %d", v, v0)
	}
	stayOneStream(t, m)
	load.finish(t)
}

// partitionRebalance cuts a follower off from the others and membase
// while a rebalance runs: the majority follows the rebalance to its end
// without client errors, the cut node keeps the last map it had (the
// version watcher checks that no node ever goes back), and after the
// heal it catches up on the final map. No client uses the cut node: its
// map goes stale while the data moves, and what its clients then see is
// not what this case is about.
func partitionRebalance(t *testing.T, lf *labFleet) {
	m := lf.mock
	lead, followers := lf.leader(t, lf.Nodes)
	v0 := lf.waitConverged(t, lf.Nodes, startTimeout, nil)
	cut, others := followers[0], []*fleetNode{lead, followers[1]}
	load := startFleetLoad(t, m, others, 2, 1_000_000)
	load.waitOps(t, 200, 10*time.Second)

	m.post(t, "/mock/rebalance?nodes=3", 202)
	vCut := cut.waitStatus(t, 10*time.Second, func(s fleetStatus) error {
		if s.version() <= v0 {
			return fmt.Errorf("version %d, rebalance not begun", s.version())
		}
		return nil
	}).version()
	lf.isolate(cut, true)
	healed := false
	heal := func() {
		if !healed {
			healed = true
			lf.lab.heal(lf.ns[cut.Name])
		}
	}
	defer heal()
	var ms mockStatus
	if err := m.getJSON("/mock/status", &ms); err != nil {
		t.Fatal(err)
	}
	if !ms.RebalanceRunning {
		t.Errorf("the rebalance was over when %s was cut off (at version %d): the case did not cut during it", cut.Name, vCut)
	}
	v, _ := lf.waitStable(t, others, 200*time.Millisecond, 20*time.Second, finalMap(others, 3))
	st, err := cut.status()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s cut off at version %d; the majority went on to %d; the cut node serves %d", cut.Name, vCut, v, st.version())
	if st.version() < vCut || st.version() >= v {
		t.Errorf("the cut node serves version %d, want from %d to below %d", st.version(), vCut, v)
	}
	load.waitOps(t, 200, 10*time.Second)

	heal()
	start := time.Now()
	lf.waitStable(t, lf.Nodes, 200*time.Millisecond, 30*time.Second, finalMap(lf.Nodes, 3))
	t.Logf("healed: %s on the final map %v later", cut.Name, time.Since(start).Round(time.Millisecond))
	stayOneStream(t, m)
	load.finish(t)
}

// stayOneStream watches the mock's streams_open for a second: exactly one.
func stayOneStream(t *testing.T, m *mockProc) {
	t.Helper()
	s := sampleStreams(m, 1, 20*time.Millisecond)
	s.waitSamples(t, 50, 10*time.Second)
	s.finish(t, 50)
}

// versionWatch polls every node's /status in the background and notes
// any node whose map version went down.
type versionWatch struct {
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	polls   int
	changes int
	back    []string
}

func watchVersions(nodes []*fleetNode) *versionWatch {
	w := &versionWatch{stop: make(chan struct{})}
	for _, nd := range nodes {
		// One goroutine a node: a stopped node's polls time out
		// without holding up the others'.
		w.wg.Go(func() {
			var last uint64
			for {
				if st, err := nd.status(); err == nil && st.version() > 0 {
					v := st.version()
					w.mu.Lock()
					w.polls++
					if v != last && last != 0 {
						w.changes++
					}
					if v < last && len(w.back) < 10 {
						w.back = append(w.back, fmt.Sprintf("%s: %d -> %d at %s", nd.Name, last, v, time.Now().Format("15:04:05.000")))
					}
					w.mu.Unlock()
					last = max(last, v)
				}
				select {
				case <-w.stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		})
	}
	return w
}

func (w *versionWatch) finish(t *testing.T) {
	t.Helper()
	close(w.stop)
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	t.Logf("version watch: %d polls, %d version changes seen", w.polls, w.changes)
	if len(w.back) > 0 {
		t.Errorf("a node went back to an older map version: %q", w.back)
	}
}
