package cluster

// Test helpers: a poll-with-deadline retry, a logger that captures what
// a node logs, and testFleet, which starts Cluster nodes either on
// loopback sockets or on raft's in-memory transport and memberlist's
// MockNetwork (the Cluster's raftTrans and gossipTrans hooks).

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/raft"

	"github.com/moxifleet/moxi/mapstore"
)

// pollEvery is how often waitFor checks its condition.
const pollEvery = 10 * time.Millisecond

// waitFor polls cond until it returns nil, and fails the test with cond's
// last error once timeout has passed. It never sleeps longer than one
// poll interval, and it is the only way these tests wait.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %v: %v", what, timeout, err)
		}
		time.Sleep(pollEvery)
	}
}

// holdsFor polls cond for the whole of d and fails the test the first
// time it returns an error: a negative assertion ("never becomes leader")
// checked at every poll rather than once after a sleep.
func holdsFor(t testing.TB, d time.Duration, what string, cond func() error) {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if err := cond(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(pollEvery)
	}
}

// logCapture is a node's log: kept for assertions and sent to t.Log
// until the test ends (a raft or memberlist goroutine may still write
// after that, which t.Log would turn into a panic).
type logCapture struct {
	t    testing.TB
	name string

	mu   sync.Mutex
	buf  bytes.Buffer
	done bool
}

func newLogCapture(t testing.TB, name string) *logCapture {
	l := &logCapture{t: t, name: name}
	t.Cleanup(func() {
		l.mu.Lock()
		l.done = true
		l.mu.Unlock()
	})
	return l
}

func (l *logCapture) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if !l.done {
		l.t.Logf("[%s] %s", l.name, bytes.TrimRight(p, "\n"))
	}
	return len(p), nil
}

func (l *logCapture) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logCapture) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// leadRecorder is the Deps.Lead of every node of a test fleet: it counts
// the Lead functions running at once and records each run, and each run
// proposes one config entry naming its node, so that the stores' indexes
// move on every leadership change.
type leadRecorder struct {
	mu      sync.Mutex
	running map[string]int // node -> Lead functions running there
	total   int            // running in the whole fleet
	max     int            // the most that ever ran at once
	runs    []leadRun
}

type leadRun struct {
	node       string
	start, end time.Time // end is zero while it runs
	proposed   uint64    // the index of its config entry, 0 until committed
}

func newLeadRecorder() *leadRecorder { return &leadRecorder{running: map[string]int{}} }

// lead returns node's Deps.Lead.
func (r *leadRecorder) lead(node string) func(context.Context, Proposer) {
	return func(ctx context.Context, p Proposer) {
		r.mu.Lock()
		r.running[node]++
		r.total++
		r.max = max(r.max, r.total)
		i := len(r.runs)
		r.runs = append(r.runs, leadRun{node: node, start: time.Now()})
		r.mu.Unlock()
		defer func() {
			r.mu.Lock()
			r.running[node]--
			r.total--
			r.runs[i].end = time.Now()
			r.mu.Unlock()
		}()
		body := fmt.Appendf(nil, "11211=127.0.0.1:11311 # led by %s, run %d", node, i)
		entry := mapstore.EncodeSetConfig(mapstore.ConfigEntry{Section: 0, Origin: node, Body: body})
		for ctx.Err() == nil {
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			idx, err := p.Propose(pctx, entry)
			cancel()
			if err == nil {
				r.mu.Lock()
				r.runs[i].proposed = idx
				r.mu.Unlock()
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
		<-ctx.Done()
	}
}

// counts returns how many Lead functions run, fleet-wide and on node.
func (r *leadRecorder) counts(node string) (total, onNode int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total, r.running[node]
}

// maxConcurrent is the most Lead functions that ever ran at once.
func (r *leadRecorder) maxConcurrent() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.max
}

// current returns the run in progress on node, if any.
func (r *leadRecorder) current(node string) (leadRun, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.runs) - 1; i >= 0; i-- {
		if r.runs[i].node == node && r.runs[i].end.IsZero() {
			return r.runs[i], true
		}
	}
	return leadRun{}, false
}

// checkOne is the invariant polled throughout: at most one Lead runs.
func (r *leadRecorder) checkOne(t testing.TB) {
	t.Helper()
	if total, _ := r.counts(""); total > 1 {
		t.Fatalf("%d Lead functions run at once: %s", total, r.describe())
	}
}

// overlap returns the longest time Lead ran on two nodes at once.
func (r *leadRecorder) overlap() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	endOf := func(run leadRun) time.Time {
		if run.end.IsZero() {
			return now
		}
		return run.end
	}
	var worst time.Duration
	for i, a := range r.runs {
		for _, b := range r.runs[i+1:] {
			if a.node == b.node {
				continue
			}
			start, end := a.start, endOf(a)
			if b.start.After(start) {
				start = b.start
			}
			if e := endOf(b); e.Before(end) {
				end = e
			}
			worst = max(worst, end.Sub(start))
		}
	}
	return worst
}

func (r *leadRecorder) describe() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, run := range r.runs {
		end := "running"
		if !run.end.IsZero() {
			end = run.end.Format("15:04:05.000")
		}
		fmt.Fprintf(&b, "\n  %s: %s - %s, proposed at %d", run.node, run.start.Format("15:04:05.000"), end, run.proposed)
	}
	return b.String()
}

// newStoreForRestart is the empty store a restarted process starts with.
func newStoreForRestart() *mapstore.Store { return mapstore.NewStore() }

// testNode is one Cluster of a testFleet.
type testNode struct {
	name    string
	cfg     Config
	store   *mapstore.Store
	log     *logCapture
	c       *Cluster
	running bool
	// in-memory transports (memory fleets only)
	gossipT *pumpedTransport
	raftT   *raft.InmemTransport
	beats   *beatCounter // heartbeats this node sent, per target
}

// testFleet starts Cluster nodes of one fleet. A memory fleet has every
// transport made up front: memberlist's MockNetwork is not safe to grow
// while its transports are in use.
type testFleet struct {
	t      *testing.T
	memory bool
	rec    *leadRecorder
	nodes  []*testNode

	drainStop chan struct{} // ends the mock transports' pumps
}

// newTestFleet prepares n nodes; node 0 has a source (it bootstraps the
// fleet), the others join node 0. mutate adjusts every node's Config.
func newTestFleet(t *testing.T, n int, memory bool, mutate func(*Config)) *testFleet {
	f := &testFleet{t: t, memory: memory, rec: newLeadRecorder(), drainStop: make(chan struct{})}
	var mnet *memberlist.MockNetwork
	if memory {
		mnet = &memberlist.MockNetwork{}
	}
	for i := range n {
		cfg := DefaultConfig()
		cfg.DataDir = t.TempDir()
		cfg.Fast = true
		cfg.Version = "test"
		cfg.Ports = "port_listen=11211"
		if memory {
			// Nothing listens on these: the transports are in memory.
			cfg.BindAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(20000+2*i))
		} else {
			g, r := freeClusterPorts(t)
			cfg.BindAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(g))
			cfg.RaftPort = r
		}
		if i == 0 {
			cfg.Source = &mapstore.Source{Kind: "static", Spec: "11211=127.0.0.1:11311"}
		}
		if mutate != nil {
			mutate(&cfg)
		}
		node := &testNode{name: cfg.BindAddr, cfg: cfg, store: mapstore.NewStore()}
		if memory {
			node.gossipT = newPumpedTransport(mnet.NewTransport(node.name), f.drainStop)
			_, node.raftT = raft.NewInmemTransport(raft.ServerAddress(cfg.raftAddr()))
		}
		f.nodes = append(f.nodes, node)
	}
	if memory {
		for _, a := range f.nodes {
			for _, b := range f.nodes {
				if a != b {
					a.raftT.Connect(raft.ServerAddress(b.cfg.raftAddr()), b.raftT)
				}
			}
		}
	}
	for i := 1; i < n; i++ {
		f.nodes[i].cfg.Join = []string{f.joinAddr(0)}
	}
	t.Cleanup(f.stopAll)
	return f
}

// joinAddr is where node i answers gossip.
func (f *testFleet) joinAddr(i int) string {
	if f.memory {
		host, port, err := f.nodes[i].gossipT.FinalAdvertiseAddr("", 0)
		if err != nil {
			f.t.Fatal(err)
		}
		return net.JoinHostPort(host.String(), strconv.Itoa(port))
	}
	return f.nodes[i].cfg.BindAddr
}

// start starts node i with a fresh Cluster over its data dir.
func (f *testFleet) start(i int) *testNode {
	f.t.Helper()
	node := f.nodes[i]
	if node.running {
		f.t.Fatalf("node %s already runs", node.name)
	}
	if node.log == nil {
		node.log = newLogCapture(f.t, node.name)
	} else {
		fmt.Fprintf(node.log, "---- restart ----\n")
	}
	c, err := New(node.cfg, Deps{Logger: node.log.logger(), Store: node.store, Lead: f.rec.lead(node.name)})
	if err != nil {
		f.t.Fatalf("New %s: %v", node.name, err)
	}
	if f.memory {
		node.beats = &beatCounter{Transport: node.raftT, inner: node.raftT, sent: map[raft.ServerID]int{}}
		c.raftTrans, c.gossipTrans = node.beats, node.gossipT
	}
	if err := c.Start(); err != nil {
		f.t.Fatalf("Start %s: %v", node.name, err)
	}
	node.c, node.running = c, true
	return node
}

// hardStop stops node i as kill -9 would: no leadership hand-off, no
// gossip leave. Its peers must find out by themselves.
func (f *testFleet) hardStop(i int) {
	node := f.nodes[i]
	if !node.running {
		return
	}
	node.running = false
	c := node.c
	_ = c.gossip.ml.Shutdown()
	f.cutRaft(node)
	c.raft.close()
	c.cancel()
	c.wg.Wait()
}

// shutdown stops node i gracefully, as SIGTERM does.
func (f *testFleet) shutdown(i int, timeout time.Duration) error {
	node := f.nodes[i]
	node.running = false
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := node.c.Shutdown(ctx)
	f.cutRaft(node)
	return err
}

// cutRaft makes a stopped node of a memory fleet unreachable for raft:
// calls to it fail at once.
func (f *testFleet) cutRaft(node *testNode) {
	if !f.memory {
		return
	}
	for _, o := range f.nodes {
		if o != node {
			o.raftT.Disconnect(raft.ServerAddress(node.cfg.raftAddr()))
		}
	}
}

// pumpedTransport is a node's transport on memberlist's MockNetwork with
// UDP's manners. MockTransport hands a packet over on an unbuffered
// channel, so a sender blocks until the receiver's memberlist reads it:
// two nodes answering each other's pings at once deadlock, and a stopped
// node blocks its peers for ever. A pump reads the mock channels at once
// into buffers (dropping a packet when full, as a socket would), and
// after Shutdown drops packets and closes streams, as a dead host does.
type pumpedTransport struct {
	*memberlist.MockTransport
	packets chan *memberlist.Packet
	streams chan net.Conn
	stopped atomic.Bool
}

func newPumpedTransport(mt *memberlist.MockTransport, stop <-chan struct{}) *pumpedTransport {
	p := &pumpedTransport{MockTransport: mt, packets: make(chan *memberlist.Packet, 1024), streams: make(chan net.Conn, 64)}
	go func() {
		for {
			select {
			case pk := <-mt.PacketCh():
				if p.stopped.Load() {
					continue
				}
				select {
				case p.packets <- pk:
				default:
				}
			case c := <-mt.StreamCh():
				if p.stopped.Load() {
					c.Close()
					continue
				}
				select {
				case p.streams <- c:
				default:
					c.Close()
				}
			case <-stop:
				return
			}
		}
	}()
	return p
}

func (p *pumpedTransport) PacketCh() <-chan *memberlist.Packet { return p.packets }
func (p *pumpedTransport) StreamCh() <-chan net.Conn           { return p.streams }

// Shutdown makes the node a dead host: streams waiting for it are closed.
func (p *pumpedTransport) Shutdown() error {
	p.stopped.Store(true)
	for {
		select {
		case c := <-p.streams:
			c.Close()
		default:
			return p.MockTransport.Shutdown()
		}
	}
}

var _ memberlist.NodeAwareTransport = (*pumpedTransport)(nil)

func (f *testFleet) stopAll() {
	for i := range f.nodes {
		f.hardStop(i)
	}
	close(f.drainStop)
}

// leader returns the node that is the established leader, failing the
// poll unless exactly one is.
func (f *testFleet) leader() (*testNode, error) {
	var found *testNode
	for _, n := range f.nodes {
		if n.running && n.c.IsLeader() {
			if found != nil {
				return nil, fmt.Errorf("two established leaders: %s and %s", found.name, n.name)
			}
			found = n
		}
	}
	if found == nil {
		return nil, fmt.Errorf("no established leader")
	}
	return found, nil
}

// waitLeader waits until one node leads, runs Lead, and its config entry
// is committed; it returns that node.
func (f *testFleet) waitLeader(timeout time.Duration) *testNode {
	f.t.Helper()
	var l *testNode
	waitFor(f.t, timeout, "an established leader running Lead", func() error {
		f.rec.checkOne(f.t)
		var err error
		if l, err = f.leader(); err != nil {
			return err
		}
		run, ok := f.rec.current(l.name)
		if !ok {
			return fmt.Errorf("%s leads but runs no Lead", l.name)
		}
		if run.proposed == 0 {
			return fmt.Errorf("%s's Lead has not committed its entry", l.name)
		}
		return nil
	})
	return l
}

// servers returns node's raft configuration.
func (n *testNode) servers() ([]raft.Server, error) {
	fut := n.c.raft.r.GetConfiguration()
	if err := fut.Error(); err != nil {
		return nil, err
	}
	return fut.Configuration().Servers, nil
}

// agreedServers returns the leader's raft configuration once every
// running node's log holds it. GetConfiguration shows a proposed change
// at once (and raft 1.7.2 does not say its index), so a test that went on
// from there could stop the leader before the change reached anyone, and
// leave the others on the configuration before it.
func (f *testFleet) agreedServers(l *testNode) ([]raft.Server, error) {
	servers, err := l.servers()
	if err != nil {
		return nil, err
	}
	want := fmt.Sprint(sortedServers(servers))
	for _, n := range f.nodes {
		if !n.running || n == l {
			continue
		}
		got, err := n.servers()
		if err != nil {
			return nil, err
		}
		if g := fmt.Sprint(sortedServers(got)); g != want {
			return nil, fmt.Errorf("%s has configuration %s, the leader %s", n.name, g, want)
		}
	}
	return servers, nil
}

func sortedServers(servers []raft.Server) []string {
	out := make([]string, len(servers))
	for i, s := range servers {
		out[i] = fmt.Sprintf("%s/%v", s.ID, s.Suffrage)
	}
	slices.Sort(out)
	return out
}

// roles summarises a configuration: voters and non-voters by name.
// outOfRaft reports, as an error to poll on, whether name is still in
// the raft configuration every running node agrees on with l. It also
// returns the voters and non-voters, for checks of their own.
func (f *testFleet) outOfRaft(l *testNode, name string) (voters, nonvoters []string, err error) {
	servers, err := f.agreedServers(l)
	if err != nil {
		return nil, nil, err
	}
	v, nv := roles(servers)
	if contains(v, name) || contains(nv, name) {
		return v, nv, fmt.Errorf("%s still in raft: voters %v, non-voters %v", name, v, nv)
	}
	return v, nv, nil
}

func roles(servers []raft.Server) (voters, nonvoters []string) {
	for _, s := range servers {
		if s.Suffrage == raft.Voter {
			voters = append(voters, string(s.ID))
		} else {
			nonvoters = append(nonvoters, string(s.ID))
		}
	}
	return voters, nonvoters
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// converged checks that every running node's store has the same index and
// source, at least min.
func (f *testFleet) converged(minIndex uint64) error {
	var first *mapstore.FleetState
	var firstName string
	for _, n := range f.nodes {
		if !n.running {
			continue
		}
		st := n.store.State()
		if st.Index < minIndex {
			return fmt.Errorf("%s is at index %d, want at least %d", n.name, st.Index, minIndex)
		}
		if st.Source == nil {
			return fmt.Errorf("%s has no source", n.name)
		}
		if first == nil {
			first, firstName = st, n.name
			continue
		}
		if st.Index != first.Index {
			return fmt.Errorf("%s is at index %d, %s at %d", n.name, st.Index, firstName, first.Index)
		}
		if err := sameReplicated(first, st); err != nil {
			return fmt.Errorf("%s and %s differ: %w", firstName, n.name, err)
		}
	}
	return nil
}

// freeClusterPorts returns a port free for both TCP and UDP (gossip) and
// another free for TCP (raft), on 127.0.0.1.
func freeClusterPorts(t testing.TB) (gossip, raftPort int) {
	t.Helper()
	for range 50 {
		tl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := tl.Addr().(*net.TCPAddr).Port
		ul, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			tl.Close()
			continue
		}
		rl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		raftPort = rl.Addr().(*net.TCPAddr).Port
		tl.Close()
		ul.Close()
		rl.Close()
		return port, raftPort
	}
	t.Fatal("no free gossip port")
	return 0, 0
}

// sameState compares two states field by field; times are compared
// with Equal, since a snapshot does not keep a time's location.
func sameState(a, b *mapstore.FleetState) error { return compareStates(a, b, true) }

// sameReplicated compares what raft replicates: everything but AppliedAt,
// which is each node's own wall time.
func sameReplicated(a, b *mapstore.FleetState) error { return compareStates(a, b, false) }

func compareStates(a, b *mapstore.FleetState, times bool) error {
	if a.Index != b.Index {
		return fmt.Errorf("index %d != %d", a.Index, b.Index)
	}
	switch {
	case (a.Source == nil) != (b.Source == nil):
		return fmt.Errorf("source %v != %v", a.Source, b.Source)
	case a.Source != nil && *a.Source != *b.Source:
		return fmt.Errorf("source %+v != %+v", *a.Source, *b.Source)
	}
	if len(a.Configs) != len(b.Configs) {
		return fmt.Errorf("%d configs != %d", len(a.Configs), len(b.Configs))
	}
	for i := range a.Configs {
		x, y := a.Configs[i], b.Configs[i]
		if x.Section != y.Section || x.Origin != y.Origin || !bytes.Equal(x.Body, y.Body) ||
			x.Index != y.Index || (times && !x.AppliedAt.Equal(y.AppliedAt)) {
			return fmt.Errorf("config %d: %+v != %+v", i, x, y)
		}
	}
	return nil
}
