// Command fleet benchmarks moxi's fleet mode: fleets of N nodes, each on
// its own loopback address (127.0.0.2, 127.0.0.3, ...), subscribed to
// cmd/membase-mock through one raft leader. For each size it reports the
// streams open at the mock, the time from a pushed config to the last
// node serving it, the time from killing the leader to the fleet's new
// stream, and each node's RSS and idle CPU. See README.md.
//
//	go run ./bench/fleet -sizes 3,7,15,31
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	sizes        []int
	pushes       int
	kills        int
	rebalances   int
	idle         time.Duration
	settle       time.Duration
	poll         time.Duration
	pollDelay    time.Duration
	sample       time.Duration
	fast         bool
	verbosity    int
	out          string
	ports        ports
	startTimeout time.Duration
	timeout      time.Duration
}

func main() {
	var c config
	sizes := flag.String("sizes", "3,7,15,31", "fleet sizes, comma-separated (at most 250 nodes)")
	flag.IntVar(&c.pushes, "pushes", 50, "configs pushed per size")
	flag.IntVar(&c.kills, "kills", 5, "leader kills per size")
	flag.IntVar(&c.rebalances, "rebalances", 2, "mock rebalances (2->3->2 data nodes...) per size, checked for one stream and convergence; not timed in the table")
	flag.DurationVar(&c.idle, "idle", 20*time.Second, "idle CPU measuring window")
	flag.DurationVar(&c.settle, "settle", 5*time.Second, "quiet time after the fleet has converged, before the idle window")
	flag.DurationVar(&c.poll, "poll", 20*time.Millisecond, "interval at which each node's /status is polled after a push")
	flag.DurationVar(&c.pollDelay, "poll-delay", 150*time.Millisecond, "time after a push before the nodes' /status is first polled (precision comes from each node's applied_at, not from polling)")
	flag.DurationVar(&c.sample, "sample", 5*time.Millisecond, "interval at which /mock/stats is sampled for open streams")
	flag.BoolVar(&c.fast, "fast", false, "start the nodes with -Z cluster_fast=true (loopback raft and gossip timings) instead of production timings")
	flag.IntVar(&c.verbosity, "moxi-v", 1, "the nodes' log level: 1 = -v (leadership, members, maps applied), 2 = -vv (also raft's and memberlist's INFO lines: snapshots, elections)")
	flag.StringVar(&c.out, "out", "", "directory for logs and raw results (default bench/fleet/.out)")
	flag.IntVar(&c.ports.gossip, "gossip-port", 17946, "gossip port on every node's address; raft uses the next one")
	flag.IntVar(&c.ports.admin, "admin-port", 18290, "admin HTTP port on every node's address")
	flag.IntVar(&c.ports.proxy, "proxy-port", 21211, "proxy port (port_listen) on every node's address")
	flag.DurationVar(&c.startTimeout, "start-timeout", 3*time.Minute, "time a fleet has to start and converge")
	flag.DurationVar(&c.timeout, "timeout", 30*time.Minute, "the whole run's limit")
	flag.Parse()
	for s := range strings.SplitSeq(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 250 {
			fatalf("-sizes: %q is not a fleet size between 1 and 250", s)
		}
		c.sizes = append(c.sizes, n)
	}
	if c.pushes < 1 || c.kills < 0 || c.poll <= 0 || c.sample <= 0 || c.verbosity < 1 || c.verbosity > 3 {
		fatalf("-pushes must be at least 1, -kills at least 0, -poll and -sample positive, -moxi-v 1 to 3")
	}
	os.Exit(run(c))
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "fleet: "+format+"\n", a...)
	os.Exit(2)
}

func run(c config) int {
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		return 2
	}
	if c.out == "" {
		c.out = filepath.Join(root, "bench", "fleet", ".out")
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		return 2
	}
	tmp, err := os.MkdirTemp("", "moxi-fleet-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		return 2
	}
	cleanup := func() {
		killAll()
		_ = os.RemoveAll(tmp)
	}
	defer cleanup()
	// Ctrl-C and SIGTERM: kill every child, remove the data, exit.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigs
		logf("%v: killing everything the bench started", s)
		cleanup()
		os.Exit(130)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()

	load := loadavg()
	bins := filepath.Join(tmp, "bin")
	logf("building moxi and membase-mock into %s", bins)
	for _, b := range [][2]string{{"moxi", "./cmd/moxi"}, {"membase-mock", "./cmd/membase-mock"}} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bins, b[0]), b[1])
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "fleet: go build %s: %v\n", b[1], err)
			return 2
		}
	}
	var results []*sizeResult
	failed := false
	for _, size := range c.sizes {
		if ctx.Err() != nil {
			break
		}
		r := runSize(ctx, c, c.ports, size, bins, tmp)
		// A port taken on one of the addresses (other programs on this
		// machine use loopback too): try again on other ports.
		for try := 1; try <= 3 && r.portsTaken && ctx.Err() == nil; try++ {
			pt := ports{gossip: 20000 + 2*rand.IntN(3000), admin: 26000 + rand.IntN(3000), proxy: 29000 + rand.IntN(3000)}
			logf("%d nodes: %s; trying again with gossip port %d, admin %d, proxy %d", size, r.Errors[len(r.Errors)-1], pt.gossip, pt.admin, pt.proxy)
			r = runSize(ctx, c, pt, size, bins, tmp)
		}
		results = append(results, r)
		if len(r.Errors) > 0 {
			failed = true
			for _, e := range r.Errors {
				logf("%d nodes: ERROR: %s", size, e)
			}
		}
		writeJSON(filepath.Join(c.out, "results.json"), results)
	}
	table := renderTable(c, results, root, load)
	_ = os.WriteFile(filepath.Join(c.out, "table.md"), []byte(table), 0o644)
	fmt.Print(table)
	if ctx.Err() != nil {
		logf("the run hit its -timeout of %v", c.timeout)
		return 1
	}
	if failed {
		return 1
	}
	return 0
}

// moduleRoot is the directory of the enclosing go.mod (the bench is run
// from the repository, as go run ./bench/fleet).
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run it inside the moxi module: go run ./bench/fleet")
	}
	return filepath.Dir(mod), nil
}

// sizeResult is everything measured on one fleet size.
type sizeResult struct {
	Size          int               `json:"size"`
	Load          string            `json:"loadavg_before"`
	Fast          bool              `json:"cluster_fast"`
	StartSec      float64           `json:"start_s"` // first node started -> all converged
	MaxOpen       int64             `json:"streams_open_max"`
	OverOneSample int               `json:"samples_over_one"`
	StreamsTotal  int64             `json:"streams_total"`
	Samples       int               `json:"stream_samples"`
	SampleErrors  int               `json:"stream_sample_errors"`
	Idle          idleResult        `json:"idle"`
	RSSEndKB      []int             `json:"rss_end_kb"`
	Pushes        []pushResult      `json:"pushes"`
	PushCPUMs     float64           `json:"push_cpu_ms"` // all nodes' CPU per push, above their idle rate
	Rebalances    []rebalanceResult `json:"rebalances"`
	Kills         []killResult      `json:"kills"`
	Errors        []string          `json:"errors,omitempty"`
	portsTaken    bool              // failed to start for a port in use
}

func (r *sizeResult) fail(format string, a ...any) {
	r.Errors = append(r.Errors, fmt.Sprintf(format, a...))
}

func runSize(ctx context.Context, c config, pt ports, size int, bins, tmp string) *sizeResult {
	r := &sizeResult{Size: size, Fast: c.fast, Load: loadavg()}
	dir := filepath.Join(c.out, fmt.Sprintf("size-%02d", size))
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.fail("%v", err)
		return r
	}
	data := filepath.Join(tmp, fmt.Sprintf("data-%02d", size))
	logf("=== %d nodes (%s timings); logs in %s", size, timings(c.fast), dir)
	m, err := startMock(filepath.Join(bins, "membase-mock"), filepath.Join(dir, "mock.log"))
	if err != nil {
		r.fail("%v", err)
		return r
	}
	f := newFleet(size, filepath.Join(bins, "moxi"), data, dir, pt, c.fast, m)
	f.verb = "-" + strings.Repeat("v", c.verbosity)
	defer func() {
		for _, n := range f.nodes {
			if n.proc != nil {
				_ = n.proc.kill()
			}
		}
		_ = m.proc.kill()
		_ = os.RemoveAll(data)
	}()
	if err := f.checkPorts(); err != nil {
		r.fail("%v", err)
		r.portsTaken = true
		return r
	}
	sampler := startSampler(m, c.sample)
	defer func() {
		sampler.close()
		sampler.mu.Lock()
		r.MaxOpen, r.OverOneSample, r.Samples, r.SampleErrors = sampler.maxOpen, sampler.overOne, sampler.samples, sampler.errors
		r.StreamsTotal = sampler.last.StreamsTotal
		writeJSON(filepath.Join(dir, "streams.json"), sampler.changes)
		sampler.mu.Unlock()
		if r.MaxOpen > 1 {
			r.fail("%d streams open at the mock at once (at %s; see %s)", r.MaxOpen, sampler.maxAt.Format(time.RFC3339Nano), filepath.Join(dir, "streams.json"))
		}
		if want := int64(1 + len(r.Kills)); r.StreamsTotal != want && len(r.Errors) == 0 {
			r.fail("the mock saw %d streams in all; expected %d (one, plus one per leader kill)", r.StreamsTotal, want)
		}
		writeJSON(filepath.Join(dir, "result.json"), r)
	}()
	fail := func(phase string, err error) *sizeResult {
		r.fail("%s: %v", phase, err)
		sts, errs := statusAll(context.Background(), f.nodes)
		dump := map[string]any{}
		for i, n := range f.nodes {
			if sts[i] != nil {
				dump[n.name] = sts[i]
			} else {
				dump[n.name] = fmt.Sprint(errs[i])
			}
		}
		writeJSON(filepath.Join(dir, "failure-status.json"), dump)
		return r
	}

	// Start: the first node with the source, then the others joining it.
	t0 := time.Now()
	if err := f.start(f.nodes[0], nil); err != nil {
		return fail("start", err)
	}
	if _, _, _, err := waitConverged(ctx, f.nodes[:1], 30*time.Second, 50*time.Millisecond); err != nil {
		r.portsTaken = bindFailed(f)
		return fail("first node", err)
	}
	for _, n := range f.nodes[1:] {
		if err := f.start(n, []string{f.nodes[0].name}); err != nil {
			return fail("start", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	leader, _, _, err := waitConverged(ctx, f.nodes, c.startTimeout, 100*time.Millisecond)
	if err != nil {
		r.portsTaken = bindFailed(f)
		return fail("start", err)
	}
	r.StartSec = time.Since(t0).Seconds()
	logf("%d nodes serving one map version after %.1fs; leader %s", size, r.StartSec, leader.name)
	for _, n := range f.nodes {
		if err := smoke(n); err != nil {
			return fail("set+get through every node", err)
		}
	}

	// Idle: nothing but the fleet's own timers.
	logf("settling %v, then measuring idle CPU for %v", c.settle, c.idle)
	time.Sleep(c.settle)
	if leader, _, _, err = waitConverged(ctx, f.nodes, 30*time.Second, 100*time.Millisecond); err != nil {
		return fail("before idle", err)
	}
	time.Sleep(time.Second) // let the status requests' work pass
	if r.Idle, err = measureIdle(ctx, f.nodes, leader, c.idle); err != nil {
		return fail("idle", err)
	}
	mean, max := meanMax(r.Idle.CPUPct)
	logf("idle CPU per node: mean %.2f%%, max %.2f%% of a core; leader %.2f%%", mean, max, r.Idle.CPUPct[r.Idle.Leader])

	// Config pushes.
	_, v, _, err := waitConverged(ctx, f.nodes, 30*time.Second, 50*time.Millisecond)
	if err != nil {
		return fail("before pushes", err)
	}
	logf("pushing %d configs", c.pushes)
	cpu0, err := fleetCPU(f.nodes)
	if err != nil {
		return fail("before pushes", err)
	}
	tp := time.Now()
	for i := range c.pushes {
		time.Sleep(100*time.Millisecond + time.Duration(rand.Int64N(int64(100*time.Millisecond))))
		p, err := push(ctx, f, leader, v, i, c.pollDelay, c.poll, 10*time.Second)
		if err != nil {
			return fail(fmt.Sprintf("push %d", i+1), err)
		}
		r.Pushes = append(r.Pushes, p)
		v = p.Version
	}
	if c.pushes%2 == 1 { // the last push killed data node 1: bring it back
		if err := postJSON(ctx, m.rest+"/mock/start-node?node=1", nil); err != nil {
			return fail("restarting data node 1", err)
		}
	}
	if cpu1, err := fleetCPU(f.nodes); err == nil {
		var idle float64
		for _, pct := range r.Idle.CPUPct {
			idle += pct / 100
		}
		r.PushCPUMs = ((cpu1 - cpu0) - idle*time.Since(tp).Seconds()) / float64(c.pushes) * 1000
	}
	last := pushLast(r.Pushes)
	logf("config -> last node: p50 %.1f ms, p99 %.1f ms", percentile(last, 50), percentile(last, 99))
	if _, _, _, err := waitConverged(ctx, f.nodes, 30*time.Second, 50*time.Millisecond); err != nil {
		return fail("after pushes", err)
	}

	// Rebalances: bursts of configs; one stream, every node on the last.
	for i := range c.rebalances {
		n := 3 - i%2
		rb, err := rebalance(ctx, f, n, 30*time.Second)
		if err != nil {
			return fail(fmt.Sprintf("rebalance to %d data nodes", n), err)
		}
		r.Rebalances = append(r.Rebalances, rb)
		logf("rebalance to %d data nodes took %.0f ms; fleet on version %d with %d servers", n, rb.TookMs, rb.Version, rb.Servers)
	}

	// Leader kills.
	for i := range c.kills {
		leader, _, _, err := waitConverged(ctx, f.nodes, 60*time.Second, 50*time.Millisecond)
		if err != nil {
			return fail(fmt.Sprintf("before leader kill %d", i+1), err)
		}
		time.Sleep(500 * time.Millisecond)
		k, err := killLeader(ctx, f, leader, 60*time.Second)
		r.Kills = append(r.Kills, k)
		if err != nil {
			return fail(fmt.Sprintf("leader kill %d", i+1), err)
		}
		logf("kill %d: leader %s; new leader %s after %.0f ms, new stream after %.0f ms; restarted node serving after %.0f ms, fleet converged after %.0f ms",
			i+1, k.Leader, k.NewLeader, k.NewLeaderMs, k.NewStreamMs, k.RestartServeMs, k.RestartCatchMs)
	}
	for _, n := range f.nodes {
		kb, _ := rssKB(n.proc.pid())
		r.RSSEndKB = append(r.RSSEndKB, kb)
	}
	return r
}

// fleetCPU is the CPU time all nodes have used, in seconds.
func fleetCPU(nodes []*node) (float64, error) {
	var sum float64
	for _, n := range nodes {
		v, err := cpuSeconds(n.proc.pid())
		if err != nil {
			return 0, fmt.Errorf("%s: %w", n.name, err)
		}
		sum += v
	}
	return sum, nil
}

// bindFailed reports whether a node exited because a port was taken.
func bindFailed(f *fleet) bool {
	for _, n := range f.nodes {
		if n.proc != nil && n.proc.exited() {
			if b, _ := os.ReadFile(n.logPath); strings.Contains(string(b), "address already in use") {
				return true
			}
		}
	}
	return false
}

func timings(fast bool) string {
	if fast {
		return "cluster_fast (loopback)"
	}
	return "production"
}

func writeJSON(path string, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err == nil {
		err = os.WriteFile(path, append(data, '\n'), 0o644)
	}
	if err != nil {
		logf("write %s: %v", path, err)
	}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func gitRev(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "?"
	}
	rev := strings.TrimSpace(string(out))
	if exec.Command("git", "-C", root, "diff", "--quiet", "HEAD", "--", ".", ":!bench").Run() != nil {
		rev += "+dirty"
	}
	return rev
}

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}
