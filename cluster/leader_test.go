package cluster

// Leadership handover of the subscription (Deps.Lead) between real
// Cluster nodes on loopback sockets: a graceful Shutdown of the leader
// and a hard stop. Every poll checks that at most one Lead runs.

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// maxLeadOverlap is the overlap of two Lead runs the issue allows: only
// while a deposed leader has not learned it lost, ended by its next raft
// contact or its leader lease (raft's LeaderLeaseTimeout in Fast mode),
// plus 150ms of scheduling slack under -race.
var maxLeadOverlap = raftConfig(Config{Fast: true}, "x", nil).LeaderLeaseTimeout + 150*time.Millisecond

// startFleet starts node 0 (which bootstraps), waits until it leads, then
// starts the others and waits until they are all in raft and every store
// has the same state.
func startFleet(t *testing.T, f *testFleet, voters int) *testNode {
	t.Helper()
	f.start(0)
	f.waitLeader(10 * time.Second)
	for i := 1; i < len(f.nodes); i++ {
		f.start(i)
	}
	l := f.waitMembers(voters, len(f.nodes)-voters, 15*time.Second)
	run, _ := f.rec.current(l.name)
	waitFor(t, 10*time.Second, "every store at the leader's entry", func() error {
		f.rec.checkOne(t)
		return f.converged(run.proposed)
	})
	return l
}

// waitMembers waits until the leader's committed raft configuration has
// this many voters and non-voters (a leader lost before it commits a
// change leaves the others on the configuration before it).
func (f *testFleet) waitMembers(voters, nonvoters int, timeout time.Duration) *testNode {
	f.t.Helper()
	var l *testNode
	waitFor(f.t, timeout, fmt.Sprintf("%d voters and %d non-voters", voters, nonvoters), func() error {
		f.rec.checkOne(f.t)
		var err error
		if l, err = f.leader(); err != nil {
			return err
		}
		servers, err := f.agreedServers(l)
		if err != nil {
			return err
		}
		v, nv := roles(servers)
		if len(v) != voters || len(nv) != nonvoters {
			return fmt.Errorf("voters %v, non-voters %v", v, nv)
		}
		return nil
	})
	return l
}

func indexOf(f *testFleet, n *testNode) int {
	for i, x := range f.nodes {
		if x == n {
			return i
		}
	}
	return -1
}

// TestLeadHandoverGraceful: the leader's Shutdown hands leadership to
// another node, which takes the subscription over; the leaver's Lead has
// ended when Shutdown returns, and it is removed from raft at once.
func TestLeadHandoverGraceful(t *testing.T) {
	f := newTestFleet(t, 3, false, nil)
	old := startFleet(t, f, 3)
	oldRun, _ := f.rec.current(old.name)

	start := time.Now()
	if err := f.shutdown(indexOf(f, old), 10*time.Second); err != nil {
		t.Fatalf("Shutdown of the leader: %v", err)
	}
	t.Logf("leader %s shut down in %v", old.name, time.Since(start))
	if _, on := f.rec.counts(old.name); on != 0 {
		t.Fatalf("the leader's Lead still runs after Shutdown returned")
	}
	if !strings.Contains(old.log.String(), "handed leadership off before leaving") {
		t.Errorf("the leader did not hand leadership off before leaving; its log:\n%s", old.log.String())
	}

	nl := f.waitLeader(5 * time.Second)
	if nl == old {
		t.Fatal("the node that left still leads")
	}
	t.Logf("%s took the subscription over %v after the Shutdown began", nl.name, time.Since(start))
	run, _ := f.rec.current(nl.name)
	if run.proposed <= oldRun.proposed {
		t.Fatalf("the new leader's entry %d is not after the old one's %d", run.proposed, oldRun.proposed)
	}
	waitFor(t, 5*time.Second, "the remaining stores at the new leader's entry", func() error {
		f.rec.checkOne(t)
		return f.converged(run.proposed)
	})
	waitFor(t, 3*time.Second, "the leaver removed from raft", func() error {
		f.rec.checkOne(t)
		_, _, err := f.outOfRaft(nl, old.name)
		return err
	})
	if d := f.rec.overlap(); d > maxLeadOverlap {
		t.Errorf("two Lead functions ran at once for %v (allowed %v):%s", d, maxLeadOverlap, f.rec.describe())
	}
	if f.rec.maxConcurrent() > 1 {
		t.Logf("note: two Lead functions overlapped briefly (%v):%s", f.rec.overlap(), f.rec.describe())
	}
}

// TestLeadHandoverHardStop: the leader stops without a word; another
// node takes the subscription over within a few seconds.
func TestLeadHandoverHardStop(t *testing.T) {
	f := newTestFleet(t, 3, false, nil)
	old := startFleet(t, f, 3)
	oldRun, _ := f.rec.current(old.name)

	start := time.Now()
	f.hardStop(indexOf(f, old))
	nl := f.waitLeader(5 * time.Second)
	if nl == old {
		t.Fatal("the stopped node still leads")
	}
	t.Logf("%s took the subscription over %v after the leader stopped", nl.name, time.Since(start))
	run, _ := f.rec.current(nl.name)
	if run.proposed <= oldRun.proposed {
		t.Fatalf("the new leader's entry %d is not after the old one's %d", run.proposed, oldRun.proposed)
	}
	waitFor(t, 5*time.Second, "the remaining stores at the new leader's entry", func() error {
		f.rec.checkOne(t)
		return f.converged(run.proposed)
	})
	// A failed member is not removed before cluster_reap (72h here).
	servers, err := nl.servers()
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := roles(servers); !contains(v, old.name) {
		t.Errorf("the failed leader was removed from raft at once: voters %v", v)
	}
	if d := f.rec.overlap(); d > maxLeadOverlap {
		t.Errorf("two Lead functions ran at once for %v (allowed %v):%s", d, maxLeadOverlap, f.rec.describe())
	}
}
