package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

var (
	mockOnce     sync.Once
	mockBin      string
	mockBuildErr error
)

// requireMock builds ./cmd/membase-mock once per test binary.
func requireMock(t testing.TB) string {
	t.Helper()
	requireMoxi(t) // repoRoot and source stats
	mockOnce.Do(func() {
		dir, err := os.MkdirTemp("", "moxi-e2e-mock-")
		if err != nil {
			mockBuildErr = err
			return
		}
		mockBin = filepath.Join(dir, "membase-mock")
		cmd := exec.Command("go", "build", "-o", mockBin, "./cmd/membase-mock")
		cmd.Dir = repoRoot
		if b, err := cmd.CombinedOutput(); err != nil {
			mockBuildErr = fmt.Errorf("go build ./cmd/membase-mock: %w\n%s", err, b)
		}
	})
	if mockBuildErr != nil {
		t.Fatal(mockBuildErr)
	}
	return mockBin
}

// mockProc is a running membase-mock.
type mockProc struct {
	p      *proc
	rest   string // http://127.0.0.1:PORT
	nodes  map[int]string
	stream string // the default bucket's bucketsStreaming URL
}

// startMock starts membase-mock with args and waits for its "admin" line.
// It is stopped at cleanup unless the test killed it.
func startMock(t testing.TB, args ...string) *mockProc {
	t.Helper()
	return startMockCmd(t, requireMock(t), args...)
}

// startMockCmd is startMock running path with args: the mock's binary,
// or a command that runs it (ip netns exec NS mock ...).
func startMockCmd(t testing.TB, path string, args ...string) *mockProc {
	t.Helper()
	p, err := startProc("membase-mock", 0, path, args...)
	if err != nil {
		t.Fatalf("start membase-mock: %v", err)
	}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("membase-mock %v output:\n%s", args, p.Output())
		}
	})
	deadline := time.Now().Add(startTimeout)
	for {
		out := p.Output()
		if strings.Contains(out, "\nadmin ") {
			return parseMock(t, p, out)
		}
		if p.exited() {
			t.Fatalf("membase-mock exited: %v\n%s", p.err, out)
		}
		if time.Now().After(deadline) {
			t.Fatalf("membase-mock not up after %v:\n%s", startTimeout, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func parseMock(t testing.TB, p *proc, out string) *mockProc {
	t.Helper()
	m := &mockProc{p: p, nodes: map[int]string{}}
	for line := range strings.SplitSeq(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "rest":
			m.rest = f[1]
		case len(f) == 3 && f[0] == "node":
			id, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatalf("mock line %q: %v", line, err)
			}
			m.nodes[id] = f[2]
		}
	}
	if !strings.HasPrefix(m.rest, "http://") || len(m.nodes) == 0 {
		t.Fatalf("cannot parse membase-mock output:\n%s", out)
	}
	m.stream = m.rest + "/pools/default/bucketsStreaming/default"
	return m
}

func (m *mockProc) getJSON(path string, v any) error {
	c := http.Client{Timeout: ioTimeout}
	resp, err := c.Get(m.rest + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
	}
	return json.Unmarshal(b, v)
}

func (m *mockProc) post(t testing.TB, path string, wantStatus int) []byte {
	t.Helper()
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Post(m.rest+path, "application/json", nil)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("POST %s: %s: %s (want %d)", path, resp.Status, b, wantStatus)
	}
	return b
}

type mockStatus struct {
	RebalanceRunning bool     `json:"rebalance_running"`
	MapVersion       uint64   `json:"map_version"`
	ServerList       []string `json:"server_list"`
	Nodes            []struct {
		ID       int            `json:"id"`
		Addr     string         `json:"addr"`
		State    string         `json:"state"`
		VBuckets map[string]int `json:"vbuckets"`
		Items    map[string]int `json:"items"`
	} `json:"nodes"`
}

type mockStats struct {
	StreamsOpen    int    `json:"streams_open"`
	StreamsTotal   int    `json:"streams_total"`
	ConfigRequests int    `json:"config_requests"`
	NotMyVBucket   int    `json:"not_my_vbucket"`
	MapVersion     uint64 `json:"map_version"`
	Rebalances     int    `json:"rebalances"`
	Failovers      int    `json:"failovers"`
}

// startVBMoxi starts moxi following a streaming URL on port_listen.
func startVBMoxi(t testing.TB, url string) *proc {
	t.Helper()
	return startMoxi(t, func(port int) []string {
		return []string{"-Z", "port_listen=" + strconv.Itoa(port), url}
	})
}

// waitServing polls a set and get through moxi until both work.
func waitServing(t testing.TB, c *memcache.Client, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, func() error {
		if err := c.Set(&memcache.Item{Key: "vb-probe", Value: []byte("ok")}); err != nil {
			return fmt.Errorf("set: %w", err)
		}
		it, err := c.Get("vb-probe")
		if err != nil {
			return fmt.Errorf("get: %w", err)
		}
		if string(it.Value) != "ok" {
			return fmt.Errorf("get: value %q", it.Value)
		}
		return nil
	})
}

// writeKeys sets n keys prefix-i = value-i and returns them.
func writeKeys(t testing.TB, c *memcache.Client, prefix string, n int) map[string]string {
	t.Helper()
	kv := make(map[string]string, n)
	for i := range n {
		k, v := fmt.Sprintf("%s-%d", prefix, i), fmt.Sprintf("value-%s-%d", prefix, i)
		if err := c.Set(&memcache.Item{Key: k, Value: []byte(v)}); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
		kv[k] = v
	}
	return kv
}

// checkKeys returns an error naming the first keys not readable with their
// value, using get_multi in batches.
func checkKeys(c *memcache.Client, kv map[string]string) error {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	var bad []string
	for i := 0; i < len(keys); i += 100 {
		batch := keys[i:min(i+100, len(keys))]
		got, err := c.GetMulti(batch)
		if err != nil {
			return fmt.Errorf("get_multi: %w", err)
		}
		for _, k := range batch {
			if it, ok := got[k]; !ok || string(it.Value) != kv[k] {
				bad = append(bad, k)
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d of %d keys missing or wrong, e.g. %q", len(bad), len(kv), bad[:min(5, len(bad))])
	}
	return nil
}

// TestVBucketMockRebalanceUnderLoad rebalances 2 -> 4 nodes while clients
// set and get through moxi, which must hide every NOT_MY_VBUCKET.
func TestVBucketMockRebalanceUnderLoad(t *testing.T) {
	// Batches of 128 vbuckets (1/8 of the map) published 50 ms after they
	// moved, as a lagging stream would: moxi is sure to send requests by a
	// stale map, and must hide every NOT_MY_VBUCKET it gets.
	m := startMock(t, "-rest", "127.0.0.1:0", "-nodes", "2", "-vbuckets", "1024", "-rebalance-step", "20ms",
		"-rebalance-batch", "128", "-publish-lag", "50ms")
	moxi := startVBMoxi(t, m.stream)
	c := newVBClient(moxi.Addr)
	waitServing(t, c, startTimeout)
	kv := writeKeys(t, c, "reb", 2000)
	keys := make([]string, 0, len(kv))
	for i := range 2000 {
		keys = append(keys, fmt.Sprintf("reb-%d", i))
	}

	const workers = 8
	var (
		stop    atomic.Bool
		ops     atomic.Int64
		errs    atomic.Int64
		errMu   sync.Mutex
		errList []string
		wg      sync.WaitGroup
		final   = make([]map[string]string, workers)
	)
	fail := func(s string) {
		errs.Add(1)
		errMu.Lock()
		if len(errList) < 10 {
			errList = append(errList, s)
		}
		errMu.Unlock()
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wc := newVBClient(moxi.Addr)
			mine := map[string]string{}
			for i := w; i < len(keys); i += workers {
				mine[keys[i]] = kv[keys[i]]
			}
			final[w] = mine
			for round := 0; !stop.Load(); round++ {
				for i := w; i < len(keys) && !stop.Load(); i += workers {
					k := keys[i]
					v := fmt.Sprintf("value-%s-r%d", k, round)
					if err := wc.Set(&memcache.Item{Key: k, Value: []byte(v)}); err != nil {
						fail(fmt.Sprintf("set %s: %v", k, err))
						continue
					}
					mine[k] = v
					it, err := wc.Get(k)
					switch {
					case err != nil:
						fail(fmt.Sprintf("get %s: %v", k, err))
					case string(it.Value) != v:
						fail(fmt.Sprintf("get %s: %q, want %q", k, it.Value, v))
					}
					ops.Add(1)
				}
			}
		}()
	}
	// Let the load run a moment before the rebalance starts.
	eventually(t, 5*time.Second, func() error {
		if ops.Load() < 200 {
			return fmt.Errorf("only %d ops so far", ops.Load())
		}
		return nil
	})
	m.post(t, "/mock/rebalance?nodes=4", http.StatusAccepted)
	eventually(t, 15*time.Second, func() error {
		var st mockStatus
		if err := m.getJSON("/mock/status", &st); err != nil {
			return err
		}
		if st.RebalanceRunning || len(st.ServerList) != 4 {
			return fmt.Errorf("rebalance running %v, %d servers", st.RebalanceRunning, len(st.ServerList))
		}
		return nil
	})
	opsAtEnd := ops.Load()
	// A little more load on the final map.
	eventually(t, 5*time.Second, func() error {
		if ops.Load() < opsAtEnd+200 {
			return fmt.Errorf("only %d ops after the rebalance", ops.Load()-opsAtEnd)
		}
		return nil
	})
	stop.Store(true)
	wg.Wait()
	t.Logf("%d set+get pairs under load", ops.Load())
	if n := errs.Load(); n > 0 {
		t.Errorf("%d client errors during the rebalance, first: %q", n, errList)
	}
	want := map[string]string{}
	for _, mine := range final {
		for k, v := range mine {
			want[k] = v
		}
	}
	if len(want) != 2000 {
		t.Fatalf("tracked %d keys, want 2000", len(want))
	}
	if err := checkKeys(c, want); err != nil {
		t.Errorf("after the rebalance: %v", err)
	}
	var st mockStatus
	if err := m.getJSON("/mock/status", &st); err != nil {
		t.Fatal(err)
	}
	for _, n := range st.Nodes {
		if n.VBuckets["default"] != 256 {
			t.Errorf("node %d masters %d vbuckets, want 256", n.ID, n.VBuckets["default"])
		}
	}
	var stats mockStats
	if err := m.getJSON("/mock/stats", &stats); err != nil {
		t.Fatal(err)
	}
	t.Logf("mock stats %+v", stats)
	if stats.NotMyVBucket == 0 {
		t.Errorf("not_my_vbucket = 0: moxi was never redirected during the rebalance")
	}
	if stats.StreamsOpen != 1 {
		t.Errorf("streams_open = %d, want 1", stats.StreamsOpen)
	}
}

// TestVBucketMockFailover fails over one of three nodes with a replica per
// vbucket: moxi must read every key again once the replicas are promoted.
func TestVBucketMockFailover(t *testing.T) {
	m := startMock(t, "-rest", "127.0.0.1:0", "-nodes", "3", "-replicas", "1", "-vbuckets", "256")
	moxi := startVBMoxi(t, m.stream)
	c := newVBClient(moxi.Addr)
	waitServing(t, c, startTimeout)
	kv := writeKeys(t, c, "fo", 1000)
	if err := checkKeys(c, kv); err != nil {
		t.Fatalf("before failover: %v", err)
	}
	var st mockStatus
	if err := m.getJSON("/mock/status", &st); err != nil {
		t.Fatal(err)
	}
	victim := st.Nodes[1].ID
	if st.Nodes[1].VBuckets["default"] == 0 {
		t.Fatalf("node %d masters no vbucket: %+v", victim, st.Nodes)
	}
	m.post(t, fmt.Sprintf("/mock/failover?node=%d", victim), http.StatusOK)
	if err := m.getJSON("/mock/status", &st); err != nil {
		t.Fatal(err)
	}
	if len(st.ServerList) != 2 {
		t.Fatalf("server list after failover %v, want 2 servers", st.ServerList)
	}
	eventually(t, 10*time.Second, func() error { return checkKeys(c, kv) })
	// And writes go to the promoted masters.
	kv2 := writeKeys(t, c, "fo2", 200)
	if err := checkKeys(c, kv2); err != nil {
		t.Fatalf("after failover: %v", err)
	}
}

// proxyConfigVersion asks moxi "stats proxy config" and returns the
// config_version of its one bucket.
func proxyConfigVersion(addr string) (uint64, error) {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c, "stats proxy config\r\n"); err != nil {
		return 0, err
	}
	r := bufio.NewReader(c)
	var ver uint64
	found := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "END" {
			break
		}
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "STAT" && strings.HasSuffix(f[1], ":config_version") {
			if ver, err = strconv.ParseUint(f[2], 10, 64); err != nil {
				return 0, fmt.Errorf("line %q: %w", line, err)
			}
			found = true
		} else if !strings.HasPrefix(line, "STAT ") {
			return 0, fmt.Errorf("unexpected line %q", line)
		}
	}
	if !found {
		return 0, errors.New("no config_version in stats proxy config")
	}
	return ver, nil
}

// TestVBucketRESTRestart kills the mock (REST and data nodes) for real:
// moxi must stay up on its last map, and serve again once the mock comes
// back on the same ports from its -state file.
func TestVBucketRESTRestart(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	var m *mockProc
	var args []string
	for attempt := 0; ; attempt++ {
		rest, base := freePort(t), freePort(t)
		args = []string{"-rest", addrOf(rest), "-nodes", "2", "-vbuckets", "64",
			"-data-port-base", strconv.Itoa(base), "-state", state}
		if portFree(base+1) && portFree(rest) {
			m = startMock(t, args...)
			break
		}
		if attempt > 5 {
			t.Fatal("no free port pair for the data nodes")
		}
	}
	moxi := startVBMoxi(t, m.stream)
	c := newVBClient(moxi.Addr)
	waitServing(t, c, startTimeout)
	kv := writeKeys(t, c, "rr", 200)
	if err := checkKeys(c, kv); err != nil {
		t.Fatal(err)
	}
	var stats mockStats
	if err := m.getJSON("/mock/stats", &stats); err != nil {
		t.Fatal(err)
	}
	var ver uint64
	eventually(t, 5*time.Second, func() error {
		v, err := proxyConfigVersion(moxi.Addr)
		if err != nil {
			return err
		}
		if v == 0 {
			return errors.New("config_version 0")
		}
		ver = v
		return nil
	})

	m.p.Signal(t, syscall.SIGKILL)
	if _, err := m.p.waitExit(stopTimeout); err != nil {
		t.Fatal(err)
	}
	// The data nodes are gone with the process: wait until moxi sees it.
	eventually(t, 5*time.Second, func() error {
		if _, err := c.Get("rr-0"); err == nil {
			return errors.New("rr-0 still readable with the mock dead")
		}
		return nil
	})
	// moxi stays up and keeps its last map for a while.
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if moxi.exited() {
			t.Fatalf("moxi exited after the mock died: %v", moxi.err)
		}
		v, err := proxyConfigVersion(moxi.Addr)
		if err != nil {
			t.Fatalf("stats proxy config with the mock dead: %v", err)
		}
		if v != ver {
			t.Fatalf("config_version %d with the mock dead, want the last one, %d", v, ver)
		}
		time.Sleep(50 * time.Millisecond)
	}

	m2 := startMock(t, args...)
	if m2.rest != m.rest || fmt.Sprint(m2.nodes) != fmt.Sprint(m.nodes) {
		t.Fatalf("restarted mock at %s %v, want %s %v", m2.rest, m2.nodes, m.rest, m.nodes)
	}
	var stats2 mockStats
	if err := m2.getJSON("/mock/stats", &stats2); err != nil {
		t.Fatal(err)
	}
	if stats2.MapVersion < stats.MapVersion {
		t.Errorf("map version after restart %d, before %d", stats2.MapVersion, stats.MapVersion)
	}
	// Items are not saved: write them again through moxi.
	eventually(t, 10*time.Second, func() error {
		for k, v := range kv {
			if err := c.Set(&memcache.Item{Key: k, Value: []byte(v)}); err != nil {
				return fmt.Errorf("set %s: %w", k, err)
			}
		}
		return checkKeys(c, kv)
	})
	// moxi follows the restarted mock's stream again.
	eventually(t, 10*time.Second, func() error {
		var s mockStats
		if err := m2.getJSON("/mock/stats", &s); err != nil {
			return err
		}
		if s.StreamsOpen != 1 {
			return fmt.Errorf("streams_open %d, want 1", s.StreamsOpen)
		}
		return nil
	})
	if moxi.exited() {
		t.Fatalf("moxi exited: %v", moxi.err)
	}
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", addrOf(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
