package cluster

// Fewer heartbeats to non-voters (thinTransport, timeouts), on raft's
// in-memory transport with a counter under each node's thinTransport.

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// beatCounter counts the heartbeats a node's raft really sends, per
// target: it sits under thinTransport.
type beatCounter struct {
	raft.Transport
	inner *raft.InmemTransport
	mu    sync.Mutex
	sent  map[raft.ServerID]int
}

func (b *beatCounter) AppendEntries(id raft.ServerID, target raft.ServerAddress,
	args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	if isHeartbeat(args) {
		b.mu.Lock()
		b.sent[id]++
		b.mu.Unlock()
	}
	return b.inner.AppendEntries(id, target, args, resp)
}

func (b *beatCounter) RequestPreVote(id raft.ServerID, target raft.ServerAddress,
	args *raft.RequestPreVoteRequest, resp *raft.RequestPreVoteResponse) error {
	return b.inner.RequestPreVote(id, target, args, resp)
}

func (b *beatCounter) Close() error { return b.inner.Close() }

func (b *beatCounter) snapshot() map[raft.ServerID]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[raft.ServerID]int, len(b.sent))
	for k, v := range b.sent {
		out[k] = v
	}
	return out
}

// TestNonVotersHeartbeatedRarely: in a fleet of three voters and two
// non-voters, the leader heartbeats each voter at raft's pace and each
// non-voter at most once per nonVoterBeat; non-voters run the longer
// non-voter timeouts and still know the leader throughout. When a voter
// fails, the non-voter promoted in its place gets full heartbeats and
// voter timeouts, and the leader keeps its lease (one leader, no
// election) all along.
func TestNonVotersHeartbeatedRarely(t *testing.T) {
	f := newTestFleet(t, 5, true, func(c *Config) { c.Voters = 3; c.DemoteAfter = time.Second })
	l := startFleet(t, f, 3)
	times := voterTimeouts(l.cfg)
	waitFor(t, 5*time.Second, "every node on its role's timeouts", func() error {
		return f.timeoutsByRole(l, times)
	})

	const window = 3 * time.Second
	before := l.beats.snapshot()
	deadline := time.Now().Add(window)
	for time.Now().Before(deadline) {
		for _, n := range f.nodes {
			if got := string(n.c.raft.r.Leader()); got != l.cfg.raftAddr() {
				t.Fatalf("%s lost sight of the leader %s (sees %q)", n.name, l.cfg.raftAddr(), got)
			}
		}
		time.Sleep(50 * time.Millisecond) // sampling rate of the check above
	}
	after := l.beats.snapshot()
	servers, err := l.servers()
	if err != nil {
		t.Fatal(err)
	}
	maxThin := int(window/times.nonVoterBeat) + 1
	for _, s := range servers {
		if s.ID == raft.ServerID(l.name) {
			continue
		}
		n := after[s.ID] - before[s.ID]
		switch s.Suffrage {
		case raft.Voter:
			if n < 10 {
				t.Errorf("voter %s got %d heartbeats in %v; want raft's pace (every %v or so)", s.ID, n, window, times.heartbeat/10)
			}
		default:
			if n > maxThin || n < 1 {
				t.Errorf("non-voter %s got %d heartbeats in %v; want 1..%d", s.ID, n, window, maxThin)
			}
		}
		t.Logf("%s (%v): %d heartbeats in %v", s.ID, s.Suffrage, n, window)
	}
	leadsBefore, _ := f.rec.counts(l.name)

	// A voter fails: a non-voter is promoted and heartbeated in full.
	victim := f.indexOf(t, firstOther(servers, l.name, raft.Voter))
	f.hardStop(victim)
	promoted := ""
	waitFor(t, 15*time.Second, "a non-voter promoted in the failed voter's place", func() error {
		v, _ := rolesNow(l)
		for _, name := range v {
			if name != l.name && name != f.nodes[victim].name && f.nodes[f.indexOf(t, name)].running {
				if promoted == "" || promoted == name {
					promoted = name
				}
			}
		}
		if len(v) < 3 || contains(v, f.nodes[victim].name) {
			return fmt.Errorf("voters %v", v)
		}
		return nil
	})
	waitFor(t, 5*time.Second, "every running node on its role's timeouts", func() error {
		return f.timeoutsByRole(l, times)
	})
	b0 := l.beats.snapshot()[raft.ServerID(promoted)]
	time.Sleep(time.Second) // a window to count heartbeats in
	if n := l.beats.snapshot()[raft.ServerID(promoted)] - b0; n < 4 {
		t.Errorf("promoted %s got %d heartbeats in 1s; want raft's pace", promoted, n)
	}
	if leads, _ := f.rec.counts(l.name); leads != leadsBefore || f.rec.maxConcurrent() != 1 {
		t.Errorf("leadership changed while thinning: %s", f.rec.describe())
	}
}

// timeoutsByRole checks every running node's raft heartbeat timeout
// against its suffrage in the leader's configuration.
func (f *testFleet) timeoutsByRole(l *testNode, times timeouts) error {
	servers, err := l.servers()
	if err != nil {
		return err
	}
	for _, n := range f.nodes {
		if !n.running {
			continue
		}
		want := times.nonVoterHeartbeat
		if isVoterIn(servers, raft.ServerID(n.name)) {
			want = times.heartbeat
		}
		if got := n.c.raft.r.ReloadableConfig().HeartbeatTimeout; got != want {
			return fmt.Errorf("%s: heartbeat timeout %v, want %v", n.name, got, want)
		}
	}
	return nil
}

func (f *testFleet) indexOf(t *testing.T, name string) int {
	for i, n := range f.nodes {
		if n.name == name {
			return i
		}
	}
	t.Fatalf("no node %s", name)
	return -1
}

func firstOther(servers []raft.Server, not string, s raft.ServerSuffrage) string {
	for _, srv := range servers {
		if string(srv.ID) != not && srv.Suffrage == s {
			return string(srv.ID)
		}
	}
	return ""
}

func rolesNow(l *testNode) (voters, nonvoters []string) {
	servers, err := l.servers()
	if err != nil {
		return nil, nil
	}
	return roles(servers)
}
