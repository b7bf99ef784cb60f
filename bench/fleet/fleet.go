package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// httpc serves every request the bench makes: short timeouts, and enough
// idle connections that polling 31 nodes reuses them.
var httpc = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second},
}

func getJSON(ctx context.Context, url string, v any) error {
	return doJSON(ctx, http.MethodGet, url, v)
}

func postJSON(ctx context.Context, url string, v any) error {
	return doJSON(ctx, http.MethodPost, url, v)
}

// doJSON sends a bodiless request and decodes a 2xx answer into v (when
// v is not nil); any other status is an error carrying the body's start.
func doJSON(ctx context.Context, method, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return err
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, strings.TrimSpace(string(b[:min(len(b), 512)])))
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(b, v)
}

// --- the mock ---------------------------------------------------------

type mock struct {
	proc *proc
	rest string // http://127.0.0.1:PORT
	url  string // the bucket's streaming config URL
}

type mockStats struct {
	StreamsOpen  int64  `json:"streams_open"`
	StreamsTotal int64  `json:"streams_total"`
	ConfigsSent  int64  `json:"configs_sent"`
	MapVersion   uint64 `json:"map_version"`
	Rebalancing  bool   `json:"rebalance_running"`
}

// startMock starts membase-mock with two data nodes on a free REST port
// and waits for its "admin" line, printed once every listener is up.
func startMock(bin, logPath string) (*mock, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	p, err := startProc("membase-mock", logf, pw, bin, "-rest", "127.0.0.1:0", "-nodes", "2")
	if err != nil {
		logf.Close()
		return nil, err
	}
	m := &mock{proc: p}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() { <-p.done; pw.Close() }()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return nil, fmt.Errorf("membase-mock exited during startup; see %s", logPath)
			}
			f := strings.Fields(line)
			switch {
			case len(f) >= 2 && f[0] == "rest":
				m.rest = f[1]
			case len(f) >= 5 && f[0] == "bucket" && f[3] == "-z":
				m.url = f[4]
			case len(f) >= 1 && f[0] == "admin":
				if m.rest == "" || m.url == "" {
					return nil, fmt.Errorf("membase-mock: no rest or bucket line before admin; see %s", logPath)
				}
				go func() { // keep draining stdout
					for range lines {
					}
				}()
				return m, nil
			}
		case <-deadline:
			_ = p.kill()
			return nil, fmt.Errorf("membase-mock not up after 15s; see %s", logPath)
		}
	}
}

func (m *mock) stats(ctx context.Context) (mockStats, error) {
	var s mockStats
	err := getJSON(ctx, m.rest+"/mock/stats", &s)
	return s, err
}

// --- fleet nodes ------------------------------------------------------

// ports every node uses on its own loopback address.
type ports struct{ gossip, admin, proxy int } // raft: gossip+1

type node struct {
	idx     int    // 1-based
	ip      string // 127.0.0.(idx+1)
	name    string // ip:gossip, the node's name in raft and gossip
	admin   string // http://ip:admin
	proxy   string // ip:proxy
	data    string
	logPath string
	proc    *proc
	starts  int
}

type fleet struct {
	nodes []*node
	mock  *mock
	bin   string
	ports ports
	fast  bool
	verb  string // moxi's -v, -vv, ...
}

func newFleet(size int, bin, dataDir, logDir string, pt ports, fast bool, m *mock) *fleet {
	f := &fleet{mock: m, bin: bin, ports: pt, fast: fast}
	for i := 1; i <= size; i++ {
		ip := fmt.Sprintf("127.0.0.%d", i+1)
		f.nodes = append(f.nodes, &node{idx: i, ip: ip,
			name:    net.JoinHostPort(ip, strconv.Itoa(pt.gossip)),
			admin:   "http://" + net.JoinHostPort(ip, strconv.Itoa(pt.admin)),
			proxy:   net.JoinHostPort(ip, strconv.Itoa(pt.proxy)),
			data:    filepath.Join(dataDir, fmt.Sprintf("node%02d", i)),
			logPath: filepath.Join(logDir, fmt.Sprintf("node%02d.log", i))})
	}
	return f
}

// checkPorts fails when a port a node needs is taken on its address.
func (f *fleet) checkPorts() error {
	for _, n := range f.nodes {
		for _, p := range []int{f.ports.gossip, f.ports.gossip + 1, f.ports.admin, f.ports.proxy} {
			ln, err := net.Listen("tcp", net.JoinHostPort(n.ip, strconv.Itoa(p)))
			if err != nil {
				return fmt.Errorf("port %d on %s is not free (%v); choose others with -gossip-port/-admin-port/-proxy-port", p, n.ip, err)
			}
			ln.Close()
		}
		pc, err := net.ListenPacket("udp", n.name)
		if err != nil {
			return fmt.Errorf("udp %s is not free (%v); choose another -gossip-port", n.name, err)
		}
		pc.Close()
	}
	return nil
}

func (f *fleet) zArgs(n *node) string {
	z := fmt.Sprintf("cluster_bind=%s,cluster_data=%s,port_listen=%d,admin_listen=%s:%d",
		n.name, n.data, f.ports.proxy, n.ip, f.ports.admin)
	if f.fast {
		z += ",cluster_fast=true"
	}
	return z
}

// start starts node n: the first node of a new fleet with the mock's URL
// as its source, any other (or a restart) as "moxi join" to join.
func (f *fleet) start(n *node, join []string) error {
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	var args []string
	if len(join) == 0 {
		args = []string{f.verb, "-l", n.ip, "-Z", f.zArgs(n), f.mock.url}
	} else {
		args = append(append([]string{"join"}, join...), f.verb, "-l", n.ip, "-Z", f.zArgs(n))
	}
	n.starts++
	fmt.Fprintf(logf, "=== bench: start #%d at %s: moxi %s\n", n.starts, time.Now().Format(time.RFC3339Nano), strings.Join(args, " "))
	p, err := startProc("moxi "+n.name, logf, nil, f.bin, args...)
	if err != nil {
		logf.Close()
		return err
	}
	n.proc = p
	go func() { <-p.done; logf.Close() }()
	return nil
}

// nodeStatus is what the bench reads of a node's GET /status.
type nodeStatus struct {
	Node        string `json:"node"`
	RaftState   string `json:"raft_state"`
	Leader      string `json:"leader"`
	Established bool   `json:"leader_established"`
	Term        uint64 `json:"term"`
	LastIndex   uint64 `json:"last_index"`
	Applied     uint64 `json:"applied_index"`
	Members     []struct {
		Name   string `json:"name"`
		Gossip string `json:"gossip"`
		Role   string `json:"role"`
	} `json:"members"`
	Serving bool `json:"serving"`
	Maps    []struct {
		Port      int       `json:"port"`
		Version   uint64    `json:"version"`
		Servers   int       `json:"servers"`
		AppliedAt time.Time `json:"applied_at"`
	} `json:"maps"`
}

// version is the node's map version (0 without a map).
func (s *nodeStatus) version() uint64 {
	if s == nil || len(s.Maps) == 0 {
		return 0
	}
	return s.Maps[0].Version
}

func (n *node) status(ctx context.Context) (*nodeStatus, error) {
	var s nodeStatus
	if err := getJSON(ctx, n.admin+"/status", &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// statusAll reads every node's status at once; a node that does not
// answer has a nil entry and its error in errs.
func statusAll(ctx context.Context, nodes []*node) ([]*nodeStatus, []error) {
	sts := make([]*nodeStatus, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { sts[i], errs[i] = n.status(ctx) })
	}
	wg.Wait()
	return sts, errs
}

// converged checks that every node serves the same map version under
// one established leader whose member list holds all nodes, alive and
// in raft. It returns the leader and the version, or why not.
func converged(nodes []*node, sts []*nodeStatus, errs []error) (leader *node, version uint64, err error) {
	var lname string
	for i, s := range sts {
		n := nodes[i]
		switch {
		case s == nil:
			return nil, 0, fmt.Errorf("%s: %v", n.name, errs[i])
		case !s.Serving:
			return nil, 0, fmt.Errorf("%s: not serving", n.name)
		case s.Leader == "":
			return nil, 0, fmt.Errorf("%s: no leader", n.name)
		case lname != "" && s.Leader != lname:
			return nil, 0, fmt.Errorf("%s sees leader %s, others %s", n.name, s.Leader, lname)
		case i > 0 && s.version() != version:
			return nil, 0, fmt.Errorf("%s: map version %d, %s has %d", n.name, s.version(), nodes[0].name, version)
		}
		lname, version = s.Leader, s.version()
	}
	for i, n := range nodes {
		if n.name != lname {
			continue
		}
		s := sts[i]
		if s.RaftState != "Leader" || !s.Established {
			return nil, 0, fmt.Errorf("%s: leader not established (%s)", n.name, s.RaftState)
		}
		inRaft := 0
		for _, m := range s.Members {
			if m.Gossip == "alive" && m.Role != "none" {
				inRaft++
			}
		}
		if inRaft != len(nodes) {
			return nil, 0, fmt.Errorf("leader %s: %d of %d members alive and in raft", n.name, inRaft, len(nodes))
		}
		return n, version, nil
	}
	return nil, 0, fmt.Errorf("leader %q is none of the fleet's nodes", lname)
}

// waitConverged polls every node every interval until converged, for at
// most timeout. It returns the last statuses with the result.
func waitConverged(ctx context.Context, nodes []*node, timeout, interval time.Duration) (*node, uint64, []*nodeStatus, error) {
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		for _, n := range nodes {
			if n.proc != nil && n.proc.exited() {
				return nil, 0, nil, fmt.Errorf("%s exited (%v); see %s", n.name, n.proc.cmd.ProcessState, n.logPath)
			}
		}
		sts, errs := statusAll(ctx, nodes)
		l, v, err := converged(nodes, sts, errs)
		if err == nil {
			return l, v, sts, nil
		}
		lastErr = err
		if time.Now().After(deadline) {
			return nil, 0, sts, fmt.Errorf("not converged after %v: %w", timeout, lastErr)
		}
		select {
		case <-ctx.Done():
			return nil, 0, nil, ctx.Err()
		case <-time.After(interval):
		}
	}
}

// smoke sets and gets a key through the node's proxy port (text protocol).
func smoke(n *node) error {
	c, err := net.DialTimeout("tcp", n.proxy, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	key := "bench:fleet:" + n.ip
	fmt.Fprintf(c, "set %s 0 0 2\r\nok\r\nget %s\r\n", key, key)
	r := bufio.NewReader(c)
	var got []string
	for range 4 {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("%s: after %q: %w", n.proxy, got, err)
		}
		got = append(got, strings.TrimRight(line, "\r\n"))
	}
	want := []string{"STORED", "VALUE " + key + " 0 2", "ok", "END"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		return fmt.Errorf("%s: set+get answered %q", n.proxy, got)
	}
	return nil
}

var errTimeout = errors.New("timed out")
