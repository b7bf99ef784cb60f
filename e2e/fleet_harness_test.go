package e2e

// The fleet harness (issue 11): moxi nodes forming one fleet, each on its
// own loopback address (127.0.0.2, 127.0.0.3, ...), so that every node uses
// the same gossip, raft, proxy and admin ports, as on real hosts. Waits are
// polls with deadlines; nothing sleeps to wait.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

// fleetIP is the next last octet to hand out: fleet nodes of this test
// binary get addresses of their own, 127.0.0.2 and up, wrapping around
// after 127.0.0.254 (ports are picked afresh for every fleet, so a reused
// address cannot clash with a fleet still running).
var fleetIP = struct {
	sync.Mutex
	next int
}{next: 2}

// fleetStatusTimeout bounds one GET of a node's admin API.
const fleetStatusTimeout = 2 * time.Second

// fleetOptions configure startFleet.
type fleetOptions struct {
	Source string // the first node's -z (a REST URL); required
	Extra  string // more -Z keys for every node, "k=v,k=v"
	// Fast starts the nodes with -Z cluster_fast=true (raft heartbeat and
	// election 200 ms, leader lease 100 ms; memberlist's local timings).
	// The tests run without it: on a loaded 2-core host its 100 ms lease
	// makes the leader step down now and then, which reopens the fleet's
	// one stream (see TestFleetRebalanceUnderLoad).
	Fast bool
	// Verbosity is the nodes' -v flag ("-v" when empty).
	Verbosity string
	// NodeExtra, when set, gives each node more -Z keys of its own (its
	// certificate under cluster TLS).
	NodeExtra func(nd *fleetNode) string
	// AdminClient, when set, is the https client of the nodes' admin
	// HTTP (cluster TLS: it carries a certificate of the fleet's CA).
	AdminClient *http.Client
	// Netns, when set, names the network namespace each node runs in
	// (ip netns exec): the partition tests' nodes (netns_harness_test.go).
	Netns func(nd *fleetNode) string
}

// testFleet is a running fleet: its nodes and the ports they share.
type testFleet struct {
	t          testing.TB
	Nodes      []*fleetNode
	gossipPort int // raft listens on gossipPort+1
	proxyPort  int
	adminPort  int
	opts       fleetOptions
}

// fleetNode is one member. Its process may be killed and restarted; every
// run's output is kept for the failure report.
type fleetNode struct {
	f     *testFleet
	Index int
	IP    string
	Addr  string // IP:proxy port, where clients connect
	Admin string // IP:admin port
	Name  string // IP:gossip port: cluster_bind, which is the node's name
	dir   string // cluster_data

	mu   sync.Mutex
	p    *proc   // the current run
	runs []*proc // every run, for logs and crash checks
}

// fleetStatus is GET /status (see node.Status and cluster.Status); the test
// decodes its own copy so that it checks the JSON people and scripts read.
type fleetStatus struct {
	Node        string         `json:"node"`
	Fleet       string         `json:"fleet_id"`
	RaftState   string         `json:"raft_state"`
	Leader      string         `json:"leader"`
	Term        uint64         `json:"term"`
	LastIndex   uint64         `json:"last_index"`
	CommitIndex uint64         `json:"commit_index"`
	Applied     uint64         `json:"applied_index"`
	Snapshot    uint64         `json:"last_snapshot_index"`
	Members     []fleetMember  `json:"members"`
	Serving     bool           `json:"serving"`
	Source      string         `json:"source"`
	Maps        []fleetMapInfo `json:"maps"`
}

type fleetMember struct {
	Name   string `json:"name"`
	Addr   string `json:"addr"`
	Gossip string `json:"gossip"`
	Role   string `json:"role"`
}

type fleetMapInfo struct {
	Port      int       `json:"port"`
	Bucket    string    `json:"bucket"`
	Version   uint64    `json:"version"`
	Servers   int       `json:"servers"`
	Source    string    `json:"source"`
	AppliedAt time.Time `json:"applied_at"`
	// PropagationMS: the leader's proposal to this node's apply; nil
	// for a map proposed before the node started.
	PropagationMS *float64 `json:"propagation_ms"`
}

// version is the node's first map's version, 0 when it has none.
func (s fleetStatus) version() uint64 {
	if len(s.Maps) == 0 {
		return 0
	}
	return s.Maps[0].Version
}

// member returns the entry named name, if any.
func (s fleetStatus) member(name string) (fleetMember, bool) {
	for _, m := range s.Members {
		if m.Name == name {
			return m, true
		}
	}
	return fleetMember{}, false
}

// fleetSource is the mock's default bucket as a fleet's -z.
func fleetSource(m *mockProc) string {
	return m.rest + "/pools/default/bucketsStreamingConfig/default"
}

// startFleet starts n nodes: the first with opts.Source, which bootstraps
// the fleet, then the rest with "moxi join" (all at once). It returns once
// every node serves the same map version.
func startFleet(t testing.TB, n int, opts fleetOptions) *testFleet {
	t.Helper()
	requireMoxi(t)
	if opts.Source == "" {
		t.Fatal("startFleet: no source")
	}
	return startFleetHook(t, n, opts, nil)
}

// startFleetHook is startFleet with hook (if not nil) run once the
// fleet's addresses and ports are chosen, before any node starts: a
// static source that names the proxy port is written there.
func startFleetHook(t testing.TB, n int, opts fleetOptions, hook func(*testFleet)) *testFleet {
	t.Helper()
	requireMoxi(t)
	ips := fleetIPs(t, n)
	f := &testFleet{t: t, opts: opts}
	f.gossipPort, f.proxyPort, f.adminPort = fleetPorts(t, ips)
	for _, ip := range ips {
		f.newNode(t, ip)
	}
	t.Cleanup(f.cleanup)
	if hook != nil {
		hook(f)
	}
	first := f.Nodes[0]
	first.start(t, nil)
	f.waitConverged(t, f.Nodes[:1], startTimeout, nil)
	for _, nd := range f.Nodes[1:] {
		nd.start(t, []string{first.Name})
	}
	f.waitConverged(t, f.Nodes, 3*startTimeout, nil)
	return f
}

// newNode adds a node, not started, on ip with the fleet's ports.
func (f *testFleet) newNode(t testing.TB, ip string) *fleetNode {
	nd := &fleetNode{f: f, Index: len(f.Nodes), IP: ip,
		Addr:  net.JoinHostPort(ip, strconv.Itoa(f.proxyPort)),
		Admin: net.JoinHostPort(ip, strconv.Itoa(f.adminPort)),
		Name:  net.JoinHostPort(ip, strconv.Itoa(f.gossipPort)),
		dir:   filepath.Join(t.TempDir(), "cluster_data")}
	f.Nodes = append(f.Nodes, nd)
	return nd
}

// fleetIPs hands out n consecutive loopback addresses.
func fleetIPs(t testing.TB, n int) []string {
	t.Helper()
	if n < 1 || n > 253 {
		t.Fatalf("a fleet of %d nodes", n)
	}
	fleetIP.Lock()
	defer fleetIP.Unlock()
	if fleetIP.next+n > 255 {
		fleetIP.next = 2
	}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("127.0.0.%d", fleetIP.next+i)
	}
	fleetIP.next += n
	return out
}

// fleetPorts picks a gossip port (raft on the next one), a proxy port and
// an admin port that are free on every address in ips: TCP for all of
// them, UDP too for gossip.
func fleetPorts(t testing.TB, ips []string) (gossip, proxy, admin int) {
	t.Helper()
	for range 20 {
		gossip, proxy, admin = freePort(t), freePort(t), freePort(t)
		ports := []int{gossip, gossip + 1, proxy, admin}
		if gossip+1 > 65535 || len(slices.Compact(slices.Sorted(slices.Values(ports)))) != len(ports) {
			continue
		}
		if portsFreeOn(ips, ports, gossip) {
			return gossip, proxy, admin
		}
	}
	t.Fatal("no free port set for the fleet")
	return 0, 0, 0
}

func portsFreeOn(ips []string, tcp []int, udp int) bool {
	for _, ip := range ips {
		var closers []io.Closer
		ok := true
		for _, p := range tcp {
			ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			closers = append(closers, ln)
		}
		if ok {
			pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(udp)))
			if err != nil {
				ok = false
			} else {
				closers = append(closers, pc)
			}
		}
		for _, c := range closers {
			c.Close()
		}
		if !ok {
			return false
		}
	}
	return true
}

// args is the node's command line, joining join when it is not empty. The
// first node keeps its source for every run; a restarted node joins every
// other member, as a service manager's unit would name them.
func (nd *fleetNode) args(join []string) []string {
	f := nd.f
	z := fmt.Sprintf("cluster_bind=%s,cluster_data=%s,port_listen=%d,admin_listen=%s,cluster_fast=%v",
		nd.Name, nd.dir, f.proxyPort, nd.Admin, f.opts.Fast)
	if f.opts.Extra != "" {
		z += "," + f.opts.Extra
	}
	if f.opts.NodeExtra != nil {
		z += "," + f.opts.NodeExtra(nd)
	}
	var args []string
	if len(join) > 0 {
		args = append(append(args, "join"), join...)
	}
	verbosity := f.opts.Verbosity
	if verbosity == "" {
		verbosity = "-v"
	}
	args = append(args, verbosity, "-l", nd.IP, "-Z", z)
	if nd.Index == 0 {
		if !strings.HasPrefix(f.opts.Source, "http://") {
			args = append(args, "-z") // a static source is only taken with -z
		}
		args = append(args, f.opts.Source)
	}
	return args
}

// start starts a run of the node. It returns at once: callers wait for the
// state they need with waitStatus and friends.
func (nd *fleetNode) start(t testing.TB, join []string) {
	t.Helper()
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.p != nil && !nd.p.exited() {
		t.Fatalf("node %s started while running", nd.Name)
	}
	// GORACE atexit_sleep_ms=0: a -race moxi would add a second to every
	// exit, which the SIGTERM test times.
	path, args := moxiBin, nd.args(join)
	if nd.f.opts.Netns != nil {
		// ip netns exec execs moxi in the namespace: the pid is moxi's,
		// so signals (SIGSTOP, SIGKILL) reach moxi itself.
		path, args = requireTool(t, "ip"), append([]string{"netns", "exec", nd.f.opts.Netns(nd), moxiBin}, args...)
	}
	p, err := startProcEnv("moxi", nd.f.proxyPort, path, noRaceExitSleep(), args...)
	if err != nil {
		t.Fatalf("start node %s: %v", nd.Name, err)
	}
	nd.p = p
	nd.runs = append(nd.runs, p)
}

// restart starts the node again with its cluster_data, joining every other
// member of the fleet.
func (nd *fleetNode) restart(t testing.TB) {
	t.Helper()
	var join []string
	for _, o := range nd.f.Nodes {
		if o != nd {
			join = append(join, o.Name)
		}
	}
	nd.start(t, join)
}

func (nd *fleetNode) proc() *proc {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.p
}

// running reports whether the node's current run has not exited.
func (nd *fleetNode) running() bool {
	p := nd.proc()
	return p != nil && !p.exited()
}

// kill9 kills the node with SIGKILL and waits until it is gone.
func (nd *fleetNode) kill9(t testing.TB) {
	t.Helper()
	p := nd.proc()
	p.Signal(t, syscall.SIGKILL)
	if _, err := p.waitExit(stopTimeout); err != nil {
		t.Fatal(err)
	}
}

// sigterm asks the node to leave; the caller waits for the exit.
func (nd *fleetNode) sigterm(t testing.TB) {
	t.Helper()
	nd.proc().Signal(t, syscall.SIGTERM)
}

// output is what every run of the node wrote.
func (nd *fleetNode) output() string {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	var b strings.Builder
	for i, p := range nd.runs {
		fmt.Fprintf(&b, "--- run %d ---\n%s", i+1, p.Output())
	}
	return b.String()
}

func (nd *fleetNode) get(path string) (*http.Response, []byte, error) {
	c, scheme := &http.Client{Timeout: fleetStatusTimeout}, "http://"
	if nd.f.opts.AdminClient != nil {
		c, scheme = nd.f.opts.AdminClient, "https://"
	}
	resp, err := c.Get(scheme + nd.Admin + path)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// status fetches the node's /status.
func (nd *fleetNode) status() (fleetStatus, error) {
	var st fleetStatus
	resp, b, err := nd.get("/status")
	if err != nil {
		return st, err
	}
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("%s /status: %s", nd.Name, resp.Status)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("%s /status: %w", nd.Name, err)
	}
	return st, nil
}

// health is the status code of the node's /health.
func (nd *fleetNode) health() (int, error) {
	resp, _, err := nd.get("/health")
	if err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

// client is a memcached client of the node's proxy port.
func (nd *fleetNode) client() *memcache.Client { return newVBClient(nd.Addr) }

// waitStatus polls the node's /status until cond accepts it.
func (nd *fleetNode) waitStatus(t testing.TB, timeout time.Duration, cond func(fleetStatus) error) fleetStatus {
	t.Helper()
	var st fleetStatus
	eventually(t, timeout, func() error {
		if !nd.running() {
			return fmt.Errorf("node %s exited: %v", nd.Name, nd.proc().err)
		}
		s, err := nd.status()
		if err != nil {
			return err
		}
		if err := cond(s); err != nil {
			return fmt.Errorf("%s: %w", nd.Name, err)
		}
		st = s
		return nil
	})
	return st
}

// pollUntil polls cond every 10ms until it returns nil or timeout
// passes, and returns its last error: eventually for checks that should
// not end the test.
func pollUntil(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// statuses fetches every node's status, failing on the first error.
func statuses(nodes []*fleetNode) ([]fleetStatus, error) {
	out := make([]fleetStatus, len(nodes))
	for i, nd := range nodes {
		if !nd.running() {
			return nil, fmt.Errorf("node %s exited: %v", nd.Name, nd.proc().err)
		}
		st, err := nd.status()
		if err != nil {
			return nil, err
		}
		out[i] = st
	}
	return out, nil
}

// converged says whether every status serves the same map version (> 0),
// with one leader among nodes that all of them name; it returns that
// version.
func converged(nodes []*fleetNode, sts []fleetStatus) (uint64, error) {
	v := sts[0].version()
	names := make([]string, len(nodes))
	for i, nd := range nodes {
		names[i] = nd.Name
	}
	leaders := 0
	for i, st := range sts {
		switch {
		case !st.Serving:
			return 0, fmt.Errorf("%s not serving", nodes[i].Name)
		case st.version() == 0:
			return 0, fmt.Errorf("%s has no map", nodes[i].Name)
		case st.version() != v:
			return 0, fmt.Errorf("%s at version %d, %s at %d", nodes[0].Name, v, nodes[i].Name, st.version())
		case !slices.Contains(names, st.Leader):
			return 0, fmt.Errorf("%s names leader %q, not one of %v", nodes[i].Name, st.Leader, names)
		case st.Leader != sts[0].Leader:
			return 0, fmt.Errorf("%s names leader %q, %s names %q", nodes[0].Name, sts[0].Leader, nodes[i].Name, st.Leader)
		}
		if st.RaftState == "Leader" {
			leaders++
		}
	}
	if leaders != 1 {
		return 0, fmt.Errorf("%d nodes in raft state Leader", leaders)
	}
	return v, nil
}

// waitConverged polls until nodes have converged (see converged) and
// extra, if given, accepts their statuses. It returns the version.
func (f *testFleet) waitConverged(t testing.TB, nodes []*fleetNode, timeout time.Duration,
	extra func([]fleetStatus) error) uint64 {
	t.Helper()
	var v uint64
	eventually(t, timeout, func() error {
		sts, err := statuses(nodes)
		if err != nil {
			return err
		}
		if v, err = converged(nodes, sts); err != nil {
			return err
		}
		if extra != nil {
			return extra(sts)
		}
		return nil
	})
	return v
}

// waitStable polls until nodes have converged on one version and stayed
// there, with nothing left to apply on the leader, for quiet. It is how a
// test knows the last of a burst of configs (a rebalance) is in force.
func (f *testFleet) waitStable(t testing.TB, nodes []*fleetNode, quiet, timeout time.Duration,
	extra func([]fleetStatus) error) (uint64, []fleetStatus) {
	t.Helper()
	var (
		v     uint64
		since time.Time
		last  []fleetStatus
	)
	eventually(t, timeout, func() error {
		sts, err := statuses(nodes)
		if err != nil {
			since = time.Time{}
			return err
		}
		cv, err := converged(nodes, sts)
		if err == nil && extra != nil {
			err = extra(sts)
		}
		if err == nil {
			for _, st := range sts {
				if st.RaftState == "Leader" && (st.CommitIndex != st.Applied || st.LastIndex != st.Applied) {
					err = fmt.Errorf("leader %s: last %d, commit %d, applied %d", st.Node, st.LastIndex, st.CommitIndex, st.Applied)
				}
			}
		}
		if err != nil {
			since = time.Time{}
			return err
		}
		if since.IsZero() || cv != v {
			v, since = cv, time.Now()
		}
		last = sts
		if d := time.Since(since); d < quiet {
			return fmt.Errorf("version %d for %v only", v, d)
		}
		return nil
	})
	return v, last
}

// leader returns the node that nodes agree leads (see converged).
func (f *testFleet) leader(t testing.TB, nodes []*fleetNode) (*fleetNode, []*fleetNode) {
	t.Helper()
	var name string
	f.waitConverged(t, nodes, 3*startTimeout, func(sts []fleetStatus) error {
		name = sts[0].Leader
		return nil
	})
	var lead *fleetNode
	var rest []*fleetNode
	for _, nd := range nodes {
		if nd.Name == name {
			lead = nd
		} else {
			rest = append(rest, nd)
		}
	}
	return lead, rest
}

// appliedSpread is the time between the first and the last node applying
// version v, from their /status applied_at (one clock: all on this host).
func appliedSpread(sts []fleetStatus, v uint64) time.Duration {
	var first, last time.Time
	for _, st := range sts {
		for _, m := range st.Maps {
			if m.Version != v {
				continue
			}
			if first.IsZero() || m.AppliedAt.Before(first) {
				first = m.AppliedAt
			}
			if m.AppliedAt.After(last) {
				last = m.AppliedAt
			}
		}
	}
	return last.Sub(first)
}

// cleanup kills every node still running (SIGKILL: a fleet stopping all at
// once spends seconds handing leadership around), checks for data races
// and panics, and shows the logs when the test failed.
func (f *testFleet) cleanup() {
	for _, nd := range f.Nodes {
		nd.mu.Lock()
		runs := slices.Clone(nd.runs)
		nd.mu.Unlock()
		for _, p := range runs {
			if !p.exited() {
				_ = p.cmd.Process.Kill()
				<-p.done
			}
			checkCrashReports(f.t, p)
		}
	}
	if !f.t.Failed() {
		return
	}
	for _, nd := range f.Nodes {
		f.t.Logf("node %d %s output:\n%s", nd.Index, nd.Name, tailLines(nd.output(), 200))
	}
}

// tailLines is the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) <= n {
		return s
	}
	return fmt.Sprintf("[%d lines cut]\n%s", len(lines)-n, strings.Join(lines[len(lines)-n:], "\n"))
}

// fleetMockStats is the mock's /mock/stats with the counters the fleet
// tests read.
type fleetMockStats struct {
	mockStats
	ConfigsSent int `json:"configs_sent"`
}

func mockStatsOf(m *mockProc) (fleetMockStats, error) {
	var s fleetMockStats
	err := m.getJSON("/mock/stats", &s)
	return s, err
}

// streamSampler polls the mock's streams_open in the background.
type streamSampler struct {
	stop, done chan struct{}

	mu      sync.Mutex
	samples int
	errs    int
	counts  map[int]int // streams_open value -> samples
	odd     []string    // the first samples other than want
	want    int
}

// sampleStreams polls streams_open every interval until finish, noting
// every sample that is not want.
func sampleStreams(m *mockProc, want int, interval time.Duration) *streamSampler {
	s := &streamSampler{stop: make(chan struct{}), done: make(chan struct{}), counts: map[int]int{}, want: want}
	start := time.Now()
	go func() {
		defer close(s.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			st, err := mockStatsOf(m)
			s.mu.Lock()
			if err != nil {
				s.errs++
			} else {
				s.samples++
				s.counts[st.StreamsOpen]++
				if st.StreamsOpen != want && len(s.odd) < 10 {
					s.odd = append(s.odd, fmt.Sprintf("streams_open %d at +%v", st.StreamsOpen, time.Since(start).Round(time.Millisecond)))
				}
			}
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// waitSamples waits until the sampler has taken n samples since it began.
func (s *streamSampler) waitSamples(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.samples < n {
			return fmt.Errorf("%d streams_open samples of %d", s.samples, n)
		}
		return nil
	})
}

// finish stops sampling and fails t if any sample was not want, or if
// there were fewer than minSamples.
func (s *streamSampler) finish(t testing.TB, minSamples int) {
	t.Helper()
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Logf("streams_open samples: %d (by value %v, %d failed polls)", s.samples, s.counts, s.errs)
	if s.samples < minSamples {
		t.Errorf("only %d streams_open samples, want at least %d", s.samples, minSamples)
	}
	if len(s.odd) > 0 {
		t.Errorf("streams_open was not %d in %d samples: %q", s.want, s.samples-s.counts[s.want], s.odd)
	}
}

// fleetLoad is set+get loops against fleet nodes, each worker on keys of
// its own, checking every value it reads.
type fleetLoad struct {
	stop    atomic.Bool
	ops     atomic.Int64
	errs    atomic.Int64
	wg      sync.WaitGroup
	mu      sync.Mutex
	errList []string
	start   time.Time
	// diagnose, when set, adds to the report of a wrong read: where the
	// key really is (the mock's data nodes, asked directly).
	diagnose func(key string) string
}

// startFleetLoad runs workers goroutines per node, each doing at most
// maxOps set+get pairs, until stopped. It is stopped at cleanup. A wrong
// read is reported with where the mock m holds the key.
func startFleetLoad(t testing.TB, m *mockProc, nodes []*fleetNode, workers, maxOps int) *fleetLoad {
	l := &fleetLoad{start: time.Now(), diagnose: func(key string) string { return mockWhere(m, key) }}
	for _, nd := range nodes {
		for w := range workers {
			l.wg.Go(func() { l.worker(nd, w, maxOps) })
		}
	}
	t.Cleanup(func() { l.stop.Store(true); l.wg.Wait() })
	return l
}

func (l *fleetLoad) worker(nd *fleetNode, w, maxOps int) {
	c := nd.client()
	for i := 0; i < maxOps && !l.stop.Load(); i++ {
		k := fmt.Sprintf("fl-%d-%d-%d", nd.Index, w, i%64)
		v := fmt.Sprintf("v-%d-%d-%d", nd.Index, w, i)
		if err := c.Set(&memcache.Item{Key: k, Value: []byte(v)}); err != nil {
			l.fail(fmt.Sprintf("%s set %s: %v", nd.Name, k, err))
			continue
		}
		it, err := c.Get(k)
		switch {
		case err != nil:
			l.fail(fmt.Sprintf("%s get %s: %v%s", nd.Name, k, err, l.diagnosis(k)))
		case string(it.Value) != v:
			l.fail(fmt.Sprintf("%s get %s: %q, want %q%s", nd.Name, k, it.Value, v, l.diagnosis(k)))
		default:
			l.ops.Add(1)
		}
	}
}

func (l *fleetLoad) diagnosis(key string) string {
	if l.diagnose == nil {
		return ""
	}
	return " (" + l.diagnose(key) + ")"
}

func (l *fleetLoad) fail(s string) {
	l.errs.Add(1)
	l.mu.Lock()
	if len(l.errList) < 10 {
		l.errList = append(l.errList, fmt.Sprintf("+%v %s", time.Since(l.start).Round(time.Millisecond), s))
	}
	l.mu.Unlock()
}

// waitOps polls until n more set+get pairs than at the call succeeded.
func (l *fleetLoad) waitOps(t testing.TB, n int64, timeout time.Duration) {
	t.Helper()
	base := l.ops.Load()
	eventually(t, timeout, func() error {
		if got := l.ops.Load() - base; got < n {
			return fmt.Errorf("%d of %d set+get pairs (%d errors)", got, n, l.errs.Load())
		}
		return nil
	})
}

// finish stops the load and fails t on any client error.
func (l *fleetLoad) finish(t testing.TB) {
	t.Helper()
	l.stop.Store(true)
	l.wg.Wait()
	t.Logf("load: %d set+get pairs in %v, %d errors", l.ops.Load(), time.Since(l.start).Round(time.Millisecond), l.errs.Load())
	if n := l.errs.Load(); n > 0 {
		l.mu.Lock()
		defer l.mu.Unlock()
		t.Errorf("%d client errors, first: %q", n, l.errList)
	}
}

// mockWhere asks every data node of the mock for key over the text
// protocol, which the mock serves whoever owns the vbucket, and says which
// hold it with what value, and which node the mock says owns it now.
func mockWhere(m *mockProc, key string) string {
	var st mockStatus
	if err := m.getJSON("/mock/status", &st); err != nil {
		return "mock status: " + err.Error()
	}
	var parts []string
	for _, n := range st.Nodes {
		c := memcache.New(n.Addr)
		c.Timeout = time.Second
		it, err := c.Get(key)
		switch {
		case err == nil:
			parts = append(parts, fmt.Sprintf("node %d has %q", n.ID, it.Value))
		case errors.Is(err, memcache.ErrCacheMiss):
			parts = append(parts, fmt.Sprintf("node %d: miss", n.ID))
		default:
			parts = append(parts, fmt.Sprintf("node %d: %v", n.ID, err))
		}
	}
	return fmt.Sprintf("vbucket %d of 256, rebalance running %v: %s", vbucketOf(key, 256), st.RebalanceRunning, strings.Join(parts, ", "))
}

// proxyMapConfig asks the proxy at addr "stats proxy config" and returns
// its one bucket's config (the JSON its map came from, on one line) and
// config_version.
func proxyMapConfig(addr string) (string, uint64, error) {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return "", 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c, "stats proxy config\r\n"); err != nil {
		return "", 0, err
	}
	r := bufio.NewReaderSize(c, 64<<10)
	var cfg string
	var ver uint64
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", 0, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "END" {
			break
		}
		name, value, _ := strings.Cut(strings.TrimPrefix(line, "STAT "), " ")
		switch {
		case strings.HasSuffix(name, ":config_version"):
			if ver, err = strconv.ParseUint(value, 10, 64); err != nil {
				return "", 0, fmt.Errorf("line %q: %w", line, err)
			}
		case strings.HasSuffix(name, ":config"):
			cfg = value
		}
	}
	if cfg == "" || ver == 0 {
		return "", 0, fmt.Errorf("%s: no config in stats proxy config", addr)
	}
	return cfg, ver, nil
}
