package e2e

// A deposed leader that has not learned it lost leadership: the leader is
// frozen (SIGSTOP, as a long GC pause or a suspended VM would), the other
// nodes elect a new leader, which opens the fleet's stream. The only
// moment two streams may be open is while the old leader is frozen; once
// it runs again it must close its stream on its next raft contact or its
// leader lease, not later.

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// overlapAfterResume bounds how long a resumed deposed leader may keep
// its stream: raft's leader lease (500 ms) or the new leader's first
// heartbeat, then closing the subscription, with room for a loaded host.
const overlapAfterResume = 2 * time.Second

func TestFleetPausedLeaderClosesItsStream(t *testing.T) {
	m := startMock(t, fleetMockArgs()...)
	f := startFleet(t, 3, fleetOptions{Source: fleetSource(m), Extra: "admin_pprof=true"})
	lead, followers := f.leader(t, f.Nodes)
	v := f.waitConverged(t, f.Nodes, startTimeout, nil)
	before := checkStreams(t, m, 1)
	load := startFleetLoad(t, m, followers, 2, 1_000_000)
	load.waitOps(t, 300, 10*time.Second)

	lead.proc().Signal(t, syscall.SIGSTOP)
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			lead.proc().Signal(t, syscall.SIGCONT)
		}
	}
	defer resume()
	eventually(t, 15*time.Second, func() error {
		s, err := mockStatsOf(m)
		if err != nil {
			return err
		}
		if s.StreamsTotal <= before.StreamsTotal {
			return fmt.Errorf("no new stream yet (streams_total %d)", s.StreamsTotal)
		}
		if s.StreamsOpen != 2 {
			t.Fatalf("streams_open %d while the old leader is frozen with its stream; want 2 (its and the new leader's)", s.StreamsOpen)
		}
		return nil
	})
	newLead, _ := f.leader(t, followers)
	load.waitOps(t, 300, 10*time.Second) // the others serve meanwhile

	resume()
	start := time.Now()
	eventually(t, 10*time.Second, func() error {
		s, err := mockStatsOf(m)
		if err == nil && s.StreamsOpen != 1 {
			err = fmt.Errorf("streams_open %d", s.StreamsOpen)
		}
		return err
	})
	overlap := time.Since(start)
	t.Logf("old leader %s resumed; its stream closed %v later (new leader %s)", lead.Name, overlap.Round(time.Millisecond), newLead.Name)
	if overlap > overlapAfterResume {
		t.Errorf("the resumed deposed leader kept its stream %v, more than %v", overlap, overlapAfterResume)
	}

	// From now on one stream, the old leader follows the new one and
	// serves at least the version it had.
	sampler := sampleStreams(m, 1, 20*time.Millisecond)
	lead.waitStatus(t, 10*time.Second, func(s fleetStatus) error {
		if s.RaftState != "Follower" || s.Leader != newLead.Name || !s.Serving || s.version() < v {
			return fmt.Errorf("state %s, leader %q, serving %v, version %d", s.RaftState, s.Leader, s.Serving, s.version())
		}
		return nil
	})
	sampler.waitSamples(t, 50, 10*time.Second) // a second of watching, at least
	sampler.finish(t, 50)
	load.finish(t)
	if s := checkStreams(t, m, 1); s.StreamsTotal != before.StreamsTotal+1 {
		t.Errorf("streams_total %d -> %d, want exactly one new stream", before.StreamsTotal, s.StreamsTotal)
	}
	// -Z admin_pprof=true: Go's profiles on the admin address, which is
	// how the idle leader's CPU was looked into (cluster/DESIGN.md).
	resp, body, err := lead.get("/debug/pprof/cmdline")
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), "moxi") {
		t.Errorf("/debug/pprof/cmdline with admin_pprof=true: %v, %q, %v", resp, body, err)
	}
}
