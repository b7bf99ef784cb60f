package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"
)

// --- streams at the mock ------------------------------------------------

// streamSampler polls /mock/stats every few milliseconds for a fleet's
// whole life and keeps the largest streams_open it saw and every change.
type streamSampler struct {
	mu       sync.Mutex
	maxOpen  int64
	last     mockStats
	samples  int
	errors   int
	changes  []streamChange
	maxAt    time.Time
	overOne  int // samples with more than one stream open
	stop     context.CancelFunc
	finished chan struct{}
}

type streamChange struct {
	At    time.Time `json:"at"`
	Open  int64     `json:"open"`
	Total int64     `json:"total"`
}

func startSampler(m *mock, every time.Duration) *streamSampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &streamSampler{stop: cancel, finished: make(chan struct{}), last: mockStats{StreamsOpen: -1}}
	go func() {
		defer close(s.finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			st, err := m.stats(ctx)
			now := time.Now()
			s.mu.Lock()
			if err != nil {
				if ctx.Err() == nil {
					s.errors++
				}
			} else {
				s.samples++
				if st.StreamsOpen != s.last.StreamsOpen || st.StreamsTotal != s.last.StreamsTotal {
					s.changes = append(s.changes, streamChange{At: now, Open: st.StreamsOpen, Total: st.StreamsTotal})
				}
				if st.StreamsOpen > s.maxOpen {
					s.maxOpen, s.maxAt = st.StreamsOpen, now
				}
				if st.StreamsOpen > 1 {
					s.overOne++
				}
				s.last = st
			}
			s.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *streamSampler) close() {
	s.stop()
	<-s.finished
}

// --- idle CPU and RSS ---------------------------------------------------

type idleResult struct {
	Seconds float64   `json:"seconds"`
	CPUPct  []float64 `json:"cpu_pct"` // per node, % of one core
	RSSKB   []int     `json:"rss_kb"`  // per node, VmRSS at the end
	Leader  int       `json:"leader"`  // index into the slices
}

// measureIdle reads every node's CPU time, waits d without touching the
// nodes, and reads it again.
func measureIdle(ctx context.Context, nodes []*node, leader *node, d time.Duration) (idleResult, error) {
	r := idleResult{CPUPct: make([]float64, len(nodes)), RSSKB: make([]int, len(nodes))}
	t0 := make([]float64, len(nodes))
	for i, n := range nodes {
		v, err := cpuSeconds(n.proc.pid())
		if err != nil {
			return r, err
		}
		t0[i] = v
		if n == leader {
			r.Leader = i
		}
	}
	start := time.Now()
	select {
	case <-ctx.Done():
		return r, ctx.Err()
	case <-time.After(d):
	}
	el := time.Since(start).Seconds()
	r.Seconds = el
	for i, n := range nodes {
		v, err := cpuSeconds(n.proc.pid())
		if err != nil {
			return r, fmt.Errorf("%s: %w", n.name, err)
		}
		r.CPUPct[i] = (v - t0[i]) / el * 100
		if r.RSSKB[i], err = rssKB(n.proc.pid()); err != nil {
			return r, err
		}
	}
	return r, nil
}

// --- config propagation -------------------------------------------------

// pushResult is one pushed config: t0 is just before the POST that makes
// the mock publish it; the rest are measured from t0.
type pushResult struct {
	Action     string    `json:"action"`
	T0         time.Time `json:"t0"`
	From       uint64    `json:"from_version"`
	Version    uint64    `json:"version"`     // the version every node ended with
	PostMs     float64   `json:"post_ms"`     // the POST's round trip
	LeaderMs   float64   `json:"leader_ms"`   // the leader's applied_at
	FirstMs    float64   `json:"first_ms"`    // first node's applied_at
	LastMs     float64   `json:"last_ms"`     // last node's applied_at: the figure reported
	ObservedMs float64   `json:"observed_ms"` // when the bench saw the last node have it (includes -poll-delay and polling)
	Polls      int       `json:"polls"`
}

// push makes the mock publish one new config and times it to the last
// node. The mock publishes a config synchronously when a data node's
// listener is killed or restarted (its health in the bucket's node list
// changes), so each push is exactly one new config; the vBucket map
// itself stays the same, which does not matter to the fleet: a node's
// health is part of a config's layout (mapstore.SameLayout), so each is
// a new raft entry and a new map version on every node.
func push(ctx context.Context, f *fleet, leader *node, from uint64, i int, delay, poll, timeout time.Duration) (pushResult, error) {
	action := "kill-node"
	if i%2 == 1 {
		action = "start-node"
	}
	r := pushResult{Action: action, From: from}
	r.T0 = time.Now()
	if err := postJSON(ctx, f.mock.rest+"/mock/"+action+"?node=1", nil); err != nil {
		return r, err
	}
	r.PostMs = ms(time.Since(r.T0))
	type seen struct {
		st  *nodeStatus
		at  time.Time
		err error
	}
	got := make([]seen, len(f.nodes))
	var polls sync.Map
	var wg sync.WaitGroup
	deadline := r.T0.Add(timeout)
	for i, n := range f.nodes {
		wg.Go(func() {
			// The first poll comes after delay (the figure is each node's
			// own applied_at, so polling late costs no precision and keeps
			// the bench off the CPUs while the nodes apply), staggered over
			// one interval so the nodes are not all asked at once.
			time.Sleep(time.Until(r.T0.Add(delay + time.Duration(rand.Int64N(int64(poll))))))
			count := 0
			for {
				count++
				st, err := n.status(ctx)
				if err == nil && st.version() > from {
					got[i] = seen{st: st, at: time.Now()}
					break
				}
				if time.Now().After(deadline) || ctx.Err() != nil {
					v := uint64(0)
					if st != nil {
						v = st.version()
					}
					got[i] = seen{err: fmt.Errorf("%s: still at map version %d %v after the push (%v)", n.name, v, timeout, err)}
					break
				}
				time.Sleep(poll)
			}
			polls.Store(i, count)
		})
	}
	wg.Wait()
	polls.Range(func(_, v any) bool { r.Polls += v.(int); return true })
	for _, g := range got {
		if g.err != nil {
			return r, g.err
		}
	}
	// Normally every node is now at from+k for one k. If the nodes saw
	// different versions (another entry came in between), wait until all
	// agree and measure to the version they agree on.
	same := true
	for _, g := range got {
		same = same && g.st.version() == got[0].st.version()
	}
	if !same {
		_, v, sts, err := waitConverged(ctx, f.nodes, timeout, poll)
		if err != nil {
			return r, fmt.Errorf("after a push the nodes disagree: %w", err)
		}
		logf("  push %d: nodes first saw different versions; measuring to %d", i+1, v)
		for j := range got {
			got[j] = seen{st: sts[j], at: time.Now()}
		}
	}
	r.Version = got[0].st.version()
	var first, last, observed time.Time
	for j, g := range got {
		at := g.st.Maps[0].AppliedAt
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
		if g.at.After(observed) {
			observed = g.at
		}
		if f.nodes[j] == leader {
			r.LeaderMs = ms(at.Sub(r.T0))
		}
	}
	r.FirstMs, r.LastMs, r.ObservedMs = ms(first.Sub(r.T0)), ms(last.Sub(r.T0)), ms(observed.Sub(r.T0))
	return r, nil
}

// --- leader kill --------------------------------------------------------

type killResult struct {
	Leader         string  `json:"leader"`
	NewLeader      string  `json:"new_leader"`
	OldStreamGone  float64 `json:"old_stream_gone_ms"` // streams_open fell to 0
	NewLeaderMs    float64 `json:"new_leader_ms"`      // a survivor names another, established leader
	NewStreamMs    float64 `json:"new_stream_ms"`      // streams_total went up and streams_open is 1: the figure reported
	MaxOpen        int64   `json:"max_open"`
	RestartServeMs float64 `json:"restart_serving_ms"` // restarted node: /status serving
	RestartCatchMs float64 `json:"restart_caught_up_ms"`
}

// killLeader kills the leader with SIGKILL, times the fleet's new
// subscription, then restarts the killed node from its data and waits
// until the whole fleet has converged again.
func killLeader(ctx context.Context, f *fleet, leader *node, timeout time.Duration) (killResult, error) {
	r := killResult{Leader: leader.name}
	s0, err := f.mock.stats(ctx)
	if err != nil {
		return r, err
	}
	if s0.StreamsOpen != 1 {
		return r, fmt.Errorf("before the kill the mock has %d streams open, not 1", s0.StreamsOpen)
	}
	var survivor *node
	var others []string
	for _, n := range f.nodes {
		if n != leader {
			if survivor == nil {
				survivor = n
			}
			others = append(others, n.name)
		}
	}
	t0 := time.Now()
	if err := leader.proc.kill(); err != nil {
		return r, err
	}
	deadline := t0.Add(timeout)
	// Watch a survivor for the new leader while the mock is watched here.
	elected := make(chan struct{})
	go func() {
		defer close(elected)
		for time.Now().Before(deadline) && ctx.Err() == nil {
			if st, err := survivor.status(ctx); err == nil && st.Leader != "" && st.Leader != leader.name {
				r.NewLeaderMs, r.NewLeader = ms(time.Since(t0)), st.Leader
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	for {
		st, err := f.mock.stats(ctx)
		last, lastErr := st, err
		if err == nil {
			if st.StreamsOpen > r.MaxOpen {
				r.MaxOpen = st.StreamsOpen
			}
			if st.StreamsOpen == 0 && r.OldStreamGone == 0 {
				r.OldStreamGone = ms(time.Since(t0))
			}
			if st.StreamsTotal > s0.StreamsTotal && st.StreamsOpen == 1 {
				r.NewStreamMs = ms(time.Since(t0))
				break
			}
		}
		if time.Now().After(deadline) {
			<-elected
			return r, fmt.Errorf("no new stream %v after killing leader %s (mock: %+v, err %v; new leader %q after %.0f ms)",
				timeout, leader.name, last, lastErr, r.NewLeader, r.NewLeaderMs)
		}
		time.Sleep(2 * time.Millisecond)
	}
	<-elected
	// Restart the killed node from its cluster_data, joining the others.
	t1 := time.Now()
	join := others
	if len(join) > 3 {
		join = join[:3]
	}
	if err := f.start(leader, join); err != nil {
		return r, err
	}
	for {
		if leader.proc.exited() {
			return r, fmt.Errorf("restarted %s exited; see %s", leader.name, leader.logPath)
		}
		if st, err := leader.status(ctx); err == nil && st.Serving {
			r.RestartServeMs = ms(time.Since(t1))
			break
		}
		if time.Since(t1) > timeout {
			return r, fmt.Errorf("restarted %s not serving after %v", leader.name, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, _, _, err := waitConverged(ctx, f.nodes, timeout, 20*time.Millisecond); err != nil {
		return r, fmt.Errorf("after restarting %s: %w", leader.name, err)
	}
	r.RestartCatchMs = ms(time.Since(t1))
	return r, nil
}

// --- rebalances ---------------------------------------------------------

type rebalanceResult struct {
	Nodes     int     `json:"nodes"`
	TookMs    float64 `json:"took_ms"`            // POST ...&wait=1 round trip
	Version   uint64  `json:"version"`            // fleet's version afterwards
	Servers   int     `json:"servers"`            // servers in every node's map
	LastAfter float64 `json:"last_after_done_ms"` // last node's applied_at minus the POST's return
}

// rebalance runs a mock rebalance to n data nodes (several configs in a
// burst) and checks that every node ends on one version with n servers.
func rebalance(ctx context.Context, f *fleet, n int, timeout time.Duration) (rebalanceResult, error) {
	r := rebalanceResult{Nodes: n}
	t0 := time.Now()
	if err := postJSON(ctx, fmt.Sprintf("%s/mock/rebalance?nodes=%d&wait=1", f.mock.rest, n), nil); err != nil {
		return r, err
	}
	done := time.Now()
	r.TookMs = ms(done.Sub(t0))
	deadline := done.Add(timeout)
	var prev uint64
	for {
		_, v, sts, err := waitConverged(ctx, f.nodes, time.Until(deadline), 20*time.Millisecond)
		if err != nil {
			return r, err
		}
		// The fleet may agree on a map of the rebalance's middle for a
		// moment: take a version that holds for 300 ms.
		ok := v == prev
		prev = v
		var last time.Time
		for _, s := range sts {
			ok = ok && s.Maps[0].Servers == n
			if s.Maps[0].AppliedAt.After(last) {
				last = s.Maps[0].AppliedAt
			}
		}
		if ok {
			r.Version, r.Servers, r.LastAfter = v, n, ms(last.Sub(done))
			return r, nil
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("after rebalancing to %d nodes the fleet's maps do not settle on %d servers", n, n)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, a...)...)
}
