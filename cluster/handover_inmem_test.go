package cluster

// Leadership handover of the subscription (Deps.Lead) on raft's
// in-memory transport and memberlist's MockNetwork: the same story as
// TestLeadHandoverGraceful, without sockets, so it is fast and
// repeatable under -race -count=N.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/moxifleet/moxi/mapstore"
)

// TestLeadHandoverInmem: three nodes; the leader's Lead proposes a config
// that every store applies; the leader shuts down gracefully, another
// node takes the subscription over and the old one leaves raft. At most
// one Lead runs at every poll.
func TestLeadHandoverInmem(t *testing.T) {
	f := newTestFleet(t, 3, true, nil)
	old := startFleet(t, f, 3)
	oldRun, ok := f.rec.current(old.name)
	if !ok {
		t.Fatalf("the leader %s runs no Lead", old.name)
	}

	// A config proposed through the leader's Lead (its Proposer is the
	// Cluster) reaches every store.
	body := []byte("11211=127.0.0.1:11411 # proposed by the test")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	idx, err := old.c.Propose(ctx, mapstore.EncodeSetConfig(mapstore.ConfigEntry{Section: 0, Origin: old.name, Body: body}))
	cancel()
	if err != nil {
		t.Fatalf("Propose on the leader: %v", err)
	}
	if idx <= oldRun.proposed {
		t.Fatalf("the config's index %d is not after the Lead's entry %d", idx, oldRun.proposed)
	}
	waitFor(t, 5*time.Second, "every store holding the proposed config", func() error {
		f.rec.checkOne(t)
		if err := f.converged(idx); err != nil {
			return err
		}
		for _, n := range f.nodes {
			rec, ok := n.store.State().Config(0)
			if !ok || string(rec.Body) != string(body) || rec.Index != idx {
				return fmt.Errorf("%s has config %+v", n.name, rec)
			}
		}
		return nil
	})

	// Shutdown's announceLeave reads memberlist's Node values while
	// memberlist may still be applying another member's alive message
	// (each node re-advertises its meta once it learns the fleet ID), a
	// data race in memberlist's Members (it hands out pointers into its
	// own state). Wait until every node has heard every other's final
	// meta, after which gossip only repeats what is known.
	waitFor(t, 5*time.Second, "gossip settled on every node's fleet meta", func() error {
		f.rec.checkOne(t)
		return f.gossipSettled()
	})

	start := time.Now()
	if err := f.shutdown(indexOf(f, old), 5*time.Second); err != nil {
		t.Fatalf("Shutdown of the leader: %v", err)
	}
	t.Logf("leader %s shut down in %v", old.name, time.Since(start))
	if _, on := f.rec.counts(old.name); on != 0 {
		t.Fatalf("the leader's Lead still runs after Shutdown returned")
	}

	nl := f.waitLeader(5 * time.Second)
	if nl == old {
		t.Fatal("the node that left still leads")
	}
	t.Logf("%s took the subscription over %v after the Shutdown began", nl.name, time.Since(start))
	run, _ := f.rec.current(nl.name)
	if run.proposed <= idx {
		t.Fatalf("the new leader's entry %d is not after the proposed config %d", run.proposed, idx)
	}
	waitFor(t, 5*time.Second, "the remaining stores at the new leader's entry", func() error {
		f.rec.checkOne(t)
		return f.converged(run.proposed)
	})
	waitFor(t, 5*time.Second, "the leaver removed from raft", func() error {
		f.rec.checkOne(t)
		v, nv, err := f.outOfRaft(nl, old.name)
		if err != nil {
			return err
		}
		if len(v) != 2 {
			return fmt.Errorf("voters %v, non-voters %v", v, nv)
		}
		return nil
	})
	if d := f.rec.overlap(); d > maxLeadOverlap {
		t.Errorf("two Lead functions ran at once for %v (allowed %v):%s", d, maxLeadOverlap, f.rec.describe())
	}
}

// gossipSettled checks that every running node has heard every other
// running node alive with the fleet ID in its meta.
func (f *testFleet) gossipSettled() error {
	for _, a := range f.nodes {
		if !a.running {
			continue
		}
		seen := a.c.gossip.members()
		for _, b := range f.nodes {
			if !b.running || a == b {
				continue
			}
			st, ok := seen[b.name]
			if !ok || st.State != memberlist.StateAlive || st.Meta.Fleet == "" {
				return fmt.Errorf("%s's news of %s: %+v", a.name, b.name, st)
			}
		}
	}
	return nil
}
