package cluster

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// thinTransport is raft's transport with fewer heartbeats to non-voters.
//
// A raft leader heartbeats every follower five to ten times a second
// (HeartbeatTimeout/10), which is what keeps voters from starting
// elections and the leader's lease alive. A non-voter needs neither: it
// never stands for election and does not count toward the lease; it
// only needs to hear from the leader more often than its own, longer,
// heartbeat timeout (nonVoterTimeouts) so that it keeps knowing who
// leads. Log entries still reach it at once: only empty heartbeats are
// spaced out, never appends. At 31 nodes that is most of an idle
// leader's CPU (the syscalls of ~240 RPCs a second).
//
// Only followers positively known to be non-voters are thinned: the
// leader's reconcile loop sets them from raft's configuration, a member
// about to be promoted is taken out first (waking a heartbeat that is
// waiting, so the new voter counts toward the lease at once), and a
// node that stops leading forgets them all.
type thinTransport struct {
	raft.Transport
	every time.Duration // least time between two heartbeats to a non-voter

	mu        sync.Mutex
	nonVoters map[raft.ServerID]bool
	last      map[raft.ServerID]time.Time // when each thinned heartbeat was sent
	changed   chan struct{}               // closed (and replaced) when nonVoters changes
	closing   chan struct{}
	closeOnce sync.Once
}

// preVoteTransport is what raft needs of a transport for pre-vote, which
// both transports moxi uses (TCP, and in-memory in tests) provide.
type preVoteTransport interface {
	raft.Transport
	raft.WithPreVote
}

func newThinTransport(inner preVoteTransport, every time.Duration) *thinTransport {
	return &thinTransport{Transport: inner, every: every,
		nonVoters: map[raft.ServerID]bool{}, last: map[raft.ServerID]time.Time{},
		changed: make(chan struct{}), closing: make(chan struct{})}
}

// isHeartbeat tells raft's heartbeat from its appends: a heartbeat names
// no previous entry, carries no entries and no commit index.
func isHeartbeat(a *raft.AppendEntriesRequest) bool {
	return len(a.Entries) == 0 && a.PrevLogEntry == 0 && a.PrevLogTerm == 0 && a.LeaderCommitIndex == 0
}

// AppendEntries waits, for a heartbeat to a non-voter, until that
// non-voter is due one; everything else goes straight through.
func (t *thinTransport) AppendEntries(id raft.ServerID, target raft.ServerAddress,
	args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	if isHeartbeat(args) {
		t.awaitTurn(id)
	}
	return t.Transport.AppendEntries(id, target, args, resp)
}

// awaitTurn returns when id may be sent a heartbeat: at once for voters
// and unknown members, else `every` after its last one. A change of the
// non-voter set, or closing, ends the wait early.
func (t *thinTransport) awaitTurn(id raft.ServerID) {
	for {
		t.mu.Lock()
		if !t.nonVoters[id] {
			t.mu.Unlock()
			return
		}
		wait := time.Until(t.last[id].Add(t.every))
		changed := t.changed
		if wait <= 0 {
			t.last[id] = time.Now()
			t.mu.Unlock()
			return
		}
		t.mu.Unlock()
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-changed:
		case <-t.closing:
			timer.Stop()
			return
		}
		timer.Stop()
	}
}

// setNonVoters makes the non-voters of servers the thinned set.
func (t *thinTransport) setNonVoters(servers []raft.Server) {
	next := make(map[raft.ServerID]bool, len(servers))
	for _, s := range servers {
		if s.Suffrage == raft.Nonvoter {
			next[s.ID] = true
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if sameSet(t.nonVoters, next) {
		return
	}
	t.nonVoters = next
	t.broadcastLocked()
}

// markVoter takes id out of the thinned set before it is promoted.
func (t *thinTransport) markVoter(id raft.ServerID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.nonVoters[id] {
		delete(t.nonVoters, id)
		t.broadcastLocked()
	}
}

// forget stops all thinning: this node no longer leads.
func (t *thinTransport) forget() { t.setNonVoters(nil) }

func (t *thinTransport) broadcastLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// RequestPreVote passes pre-vote through (raft enables pre-vote only on
// a transport that has it).
func (t *thinTransport) RequestPreVote(id raft.ServerID, target raft.ServerAddress,
	args *raft.RequestPreVoteRequest, resp *raft.RequestPreVoteResponse) error {
	return t.Transport.(raft.WithPreVote).RequestPreVote(id, target, args, resp)
}

// stopWaiting ends every wait, for good: raft's shutdown waits for its
// heartbeat goroutines.
func (t *thinTransport) stopWaiting() { t.closeOnce.Do(func() { close(t.closing) }) }

// Close ends every wait, then closes the transport.
func (t *thinTransport) Close() error {
	t.stopWaiting()
	if c, ok := t.Transport.(raft.WithClose); ok {
		return c.Close()
	}
	return nil
}

func sameSet(a, b map[raft.ServerID]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}
