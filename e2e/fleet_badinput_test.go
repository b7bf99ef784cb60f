package e2e

// Bad input to a fleet (issue 11, item 6), with real moxi processes,
// each node on its own loopback address: a join nobody answers, a node
// restarting into a fleet that is gone, two fleets told to join, a
// cluster_data that cannot be used, a node of another cluster_name, and
// a static file source re-read on SIGHUP (a good file, then a broken
// one). Helpers here are prefixed "bad" to keep clear of the fleet
// harness. Every wait polls with a deadline.

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

// badNode is one fleet node: its loopback address and ports, its
// cluster_data, and its running process, if any.
type badNode struct {
	ip     string
	gossip int
	raft   int
	admin  int
	data   string
	p      *proc
}

// newBadNode picks free ports on ip, none of them one of taken (ports the
// test handed out already: a port just closed can come back at once),
// and a fresh cluster_data.
func newBadNode(t *testing.T, ip string, taken ...int) *badNode {
	t.Helper()
	g, r := badGossipPorts(t, ip)
	admin := badFreeTCP(t, ip, append(taken, g, r)...)
	return &badNode{ip: ip, gossip: g, raft: r, admin: admin, data: filepath.Join(t.TempDir(), "data")}
}

// ports are the node's own ports, for picking others that differ.
func (n *badNode) ports() []int { return []int{n.gossip, n.raft, n.admin} }

func (n *badNode) bind() string      { return net.JoinHostPort(n.ip, strconv.Itoa(n.gossip)) }
func (n *badNode) adminAddr() string { return net.JoinHostPort(n.ip, strconv.Itoa(n.admin)) }

// zFleet is the node's fleet -Z keys plus extra ("k=v,...").
func (n *badNode) zFleet(extra string) string {
	z := fmt.Sprintf("cluster_bind=%s,cluster_raft_port=%d,cluster_data=%s,admin_listen=%s,cluster_fast=true",
		n.bind(), n.raft, n.data, n.adminAddr())
	if extra != "" {
		z += "," + extra
	}
	return z
}

// start runs moxi with -v -l IP and args ("join HOST" stays in front, where
// moxi wants it) and stops it at cleanup.
func (n *badNode) start(t *testing.T, args ...string) *proc {
	t.Helper()
	bin := requireMoxi(t)
	var all []string
	if len(args) >= 2 && args[0] == "join" {
		all, args = append(all, args[:2]...), args[2:]
	}
	all = append(all, "-v", "-l", n.ip)
	all = append(all, args...)
	p, err := startProcEnv("moxi", 0, bin, noRaceExitSleep(), all...)
	if err != nil {
		t.Fatalf("start moxi %q: %v", all, err)
	}
	p.Addr = n.adminAddr()
	t.Cleanup(func() {
		p.stop()
		checkCrashReports(t, p)
		if t.Failed() {
			t.Logf("moxi %s %q output:\n%s", n.ip, all, p.Output())
		}
	})
	n.p = p
	return p
}

// kill stops the node as kill -9 would.
func (n *badNode) kill(t *testing.T) {
	t.Helper()
	n.p.Signal(t, syscall.SIGKILL)
	if _, err := n.p.waitExit(stopTimeout); err != nil {
		t.Fatal(err)
	}
}

// term stops the node with SIGTERM and waits for it.
func (n *badNode) term(t *testing.T) {
	t.Helper()
	n.p.Signal(t, syscall.SIGTERM)
	if _, err := n.p.waitExit(3 * stopTimeout); err != nil {
		t.Fatal(err)
	}
}

// badStatus is the part of GET /status these tests read.
type badStatus struct {
	Node        string `json:"node"`
	Fleet       string `json:"fleet_id"`
	RaftState   string `json:"raft_state"`
	Leader      string `json:"leader"`
	Established bool   `json:"leader_established"`
	Members     []struct {
		Name   string `json:"name"`
		Addr   string `json:"addr"`
		Gossip string `json:"gossip"`
		Role   string `json:"role"`
	} `json:"members"`
	Serving bool   `json:"serving"`
	Source  string `json:"source"`
	Maps    []struct {
		Port    int    `json:"port"`
		Bucket  string `json:"bucket"`
		Version uint64 `json:"version"`
		Source  string `json:"source"`
		Servers int    `json:"servers"`
	} `json:"maps"`
}

func (n *badNode) status() (badStatus, error) {
	var st badStatus
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + n.adminAddr() + "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /status: %s: %s", resp.Status, b)
	}
	return st, json.Unmarshal(b, &st)
}

// version is the node's map version on port, 0 when it has none.
func (st badStatus) version(port int) uint64 {
	for _, m := range st.Maps {
		if m.Port == port {
			return m.Version
		}
	}
	return 0
}

func (st badStatus) hasMember(name string) bool {
	for _, m := range st.Members {
		if m.Name == name {
			return true
		}
	}
	return false
}

// waitServing waits until the node serves port with a map and answers a
// set and get there.
func (n *badNode) waitServing(t *testing.T, port int, timeout time.Duration) badStatus {
	t.Helper()
	var st badStatus
	c := newClient(net.JoinHostPort(n.ip, strconv.Itoa(port)))
	eventually(t, timeout, func() error {
		if n.p.exited() {
			t.Fatalf("moxi %s exited: %v\n%s", n.ip, n.p.err, n.p.Output())
		}
		var err error
		if st, err = n.status(); err != nil {
			return err
		}
		if !st.Serving || st.version(port) == 0 {
			return fmt.Errorf("%s not serving port %d: %+v", n.ip, port, st.Maps)
		}
		key := "bad-probe-" + strings.ReplaceAll(n.ip, ".", "-")
		if err := c.Set(&memcache.Item{Key: key, Value: []byte("ok")}); err != nil {
			return fmt.Errorf("set through %s: %w", n.ip, err)
		}
		if it, err := c.Get(key); err != nil || string(it.Value) != "ok" {
			return fmt.Errorf("get through %s: %v", n.ip, err)
		}
		return nil
	})
	return st
}

// badFreeTCP returns a TCP port free on ip a moment ago.
func badFreeTCP(t *testing.T, ip string, taken ...int) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatalf("listen on %s: %v", ip, err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !slices.Contains(taken, port) {
			return port
		}
	}
	t.Fatalf("no free port on %s apart from %v", ip, taken)
	return 0
}

// badGossipPorts returns a port free on ip for TCP and UDP (gossip) and
// a TCP port for raft.
func badGossipPorts(t *testing.T, ip string) (gossip, raft int) {
	t.Helper()
	for range 50 {
		tl, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		port := tl.Addr().(*net.TCPAddr).Port
		ul, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			tl.Close()
			continue
		}
		raft = badFreeTCP(t, ip)
		tl.Close()
		ul.Close()
		return port, raft
	}
	t.Fatalf("no free gossip port on %s", ip)
	return 0, 0
}

// badCountLines counts the lines of out containing s.
func badCountLines(out, s string) int {
	n := 0
	for line := range strings.SplitSeq(out, "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// badLinesWith returns the lines of out containing s.
func badLinesWith(out, s string) []string {
	var lines []string
	for line := range strings.SplitSeq(out, "\n") {
		if strings.Contains(line, s) {
			lines = append(lines, line)
		}
	}
	return lines
}

// badFirstNode starts the first node of a fleet on a static -z (inline
// or a file) and waits until it serves port.
func badFirstNode(t *testing.T, ip, z string, port int, extra string) *badNode {
	t.Helper()
	n := newBadNode(t, ip, port)
	n.start(t, "-z", z, "-Z", n.zFleet(extra))
	n.waitServing(t, port, 15*time.Second)
	return n
}

// badJoinNode starts a node that joins via and waits until it serves port.
func badJoinNode(t *testing.T, ip string, via *badNode, port int, extra string) *badNode {
	t.Helper()
	n := newBadNode(t, ip, port)
	n.start(t, "join", via.bind(), "-Z", n.zFleet(extra))
	n.waitServing(t, port, 15*time.Second)
	return n
}

// TestFleetBadJoinNobodyAnswers: moxi join to an address where no fleet
// answers, with an empty cluster_data: it logs each try, serves nothing,
// and exits non-zero after cluster_join_timeout with one line naming the
// problem.
func TestFleetBadJoinNobodyAnswers(t *testing.T) {
	const joinTimeout = 2 * time.Second
	n := newBadNode(t, "127.0.0.8")
	proxyPort := badFreeTCP(t, n.ip, n.ports()...)
	started := time.Now()
	p := n.start(t, "join", "127.0.0.9", "-Z", n.zFleet(fmt.Sprintf("cluster_join_timeout=2s,port_listen=%d", proxyPort)))
	proxyAddr := net.JoinHostPort(n.ip, strconv.Itoa(proxyPort))
	// Until it exits, it must not serve: port_listen stays closed.
	for !p.exited() && time.Since(started) < joinTimeout+5*time.Second {
		if c, err := net.DialTimeout("tcp", proxyAddr, 100*time.Millisecond); err == nil {
			c.Close()
			t.Fatalf("a node that joined no fleet accepts on port_listen %s", proxyAddr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, err := p.waitExit(joinTimeout + 2*time.Second)
	elapsed := time.Since(started)
	if err != nil {
		t.Fatalf("still running %v after start (cluster_join_timeout %v): %v\n%s", elapsed, joinTimeout, err, p.Output())
	}
	if code == 0 {
		t.Errorf("exit code 0 after finding no fleet, want non-zero")
	}
	if elapsed > joinTimeout+2*time.Second {
		t.Errorf("exited %v after start, want within cluster_join_timeout (%v) + 2s", elapsed, joinTimeout)
	}
	out := p.Output()
	if tries := badCountLines(out, "join failed; retrying"); tries < 3 {
		t.Errorf("logged %d join tries in %v, want each try logged", tries, joinTimeout)
	}
	var final []string
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, "moxi: ") {
			final = append(final, line)
		}
	}
	if len(final) != 1 || !strings.Contains(final[0], "cluster_join_timeout") {
		t.Errorf("want one line naming the problem (cluster_join_timeout), got %q", final)
	}
	t.Logf("exit %d after %v: %q", code, elapsed, final)
}

// TestFleetBadRestartFleetGone: a node restarting with its data, whose
// fleet is gone, serves its last map at once and keeps retrying the join
// past cluster_join_timeout.
func TestFleetBadRestartFleetGone(t *testing.T) {
	mc := startMemcached(t)
	port := badFreeTCP(t, "127.0.1.2")
	z := fmt.Sprintf("%d=%s", port, mc.Addr)
	a := badFirstNode(t, "127.0.1.2", z, port, "")
	b := badJoinNode(t, "127.0.1.3", a, port, "")
	want := b.waitServing(t, port, 10*time.Second).version(port)
	b.kill(t)
	a.kill(t)

	restarted := time.Now()
	b.start(t, "join", a.bind(), "-Z", b.zFleet("cluster_join_timeout=2s"))
	st := b.waitServing(t, port, 5*time.Second)
	t.Logf("serving its last map (version %d) %v after the restart", st.version(port), time.Since(restarted))
	if got := st.version(port); got != want {
		t.Errorf("restarted at map version %d, had %d", got, want)
	}
	// Past the join timeout it still runs, serves and retries.
	tries := 0
	eventually(t, 10*time.Second, func() error {
		if b.p.exited() {
			t.Fatalf("a node with data exited when its fleet was gone: %v\n%s", b.p.err, b.p.Output())
		}
		tries = badCountLines(b.p.Output(), "join failed; retrying")
		if time.Since(restarted) < 4*time.Second || tries < 5 {
			return fmt.Errorf("%v after the restart, %d tries logged", time.Since(restarted), tries)
		}
		return nil
	})
	b.waitServing(t, port, time.Second)
	t.Logf("still running %v after the restart, %d join tries logged", time.Since(restarted), tries)
}

// TestFleetBadTwoFleetsJoined: two first nodes with different sources
// make two fleets; told to join the other, one is refused, the log names
// both, and neither fleet's map changes.
func TestFleetBadTwoFleetsJoined(t *testing.T) {
	mc1, mc2 := startMemcached(t), startMemcached(t)
	port := badFreeTCP(t, "127.0.1.4")
	zA := fmt.Sprintf("%d=%s", port, mc1.Addr)
	zB := fmt.Sprintf("%d=%s", port, mc2.Addr)
	a := badFirstNode(t, "127.0.1.4", zA, port, "")
	b := badFirstNode(t, "127.0.1.5", zB, port, "")
	stA, _ := a.status()
	stB, _ := b.status()
	if stA.Fleet == "" || stB.Fleet == "" || stA.Fleet == stB.Fleet {
		t.Fatalf("fleet IDs %q and %q, want two fleets", stA.Fleet, stB.Fleet)
	}
	b.term(t)
	b.start(t, "join", a.bind(), "-Z", b.zFleet(""))
	b.waitServing(t, port, 10*time.Second)

	// Refused: the log names both fleets (or both sources).
	eventually(t, 10*time.Second, func() error {
		out := a.p.Output() + b.p.Output()
		for _, line := range strings.Split(out, "\n") {
			l := strings.ToLower(line)
			if !strings.Contains(l, "fleet") && !strings.Contains(l, "source") {
				continue
			}
			if (strings.Contains(line, stA.Fleet) && strings.Contains(line, stB.Fleet)) ||
				(strings.Contains(line, zA) && strings.Contains(line, zB)) {
				t.Logf("refusal: %s", line)
				return nil
			}
		}
		return fmt.Errorf("no line names both fleets (%s, %s) or both sources (%s, %s)", stA.Fleet, stB.Fleet, zA, zB)
	})
	// Neither fleet admits the other or changes its map, polled a while.
	holdStart := time.Now()
	for time.Since(holdStart) < 3*time.Second {
		for _, x := range []struct {
			n, other *badNode
			was      badStatus
		}{{a, b, stA}, {b, a, stB}} {
			st, err := x.n.status()
			if err != nil {
				t.Fatalf("%s /status: %v", x.n.ip, err)
			}
			if st.hasMember(x.other.bind()) {
				t.Fatalf("%s admitted %s of another fleet: %+v", x.n.ip, x.other.ip, st.Members)
			}
			if st.Fleet != x.was.Fleet || st.version(port) != x.was.version(port) || st.Source != x.was.Source {
				t.Fatalf("%s's fleet changed: fleet %s -> %s, version %d -> %d, source %q -> %q", x.n.ip,
					x.was.Fleet, st.Fleet, x.was.version(port), st.version(port), x.was.Source, st.Source)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("refusals logged: %d by a, %d by b", badCountLines(a.p.Output(), "another fleet"),
		badCountLines(b.p.Output(), "another fleet"))
	// A refused join is not reported as a join.
	if lines := badLinesWith(b.p.Output(), "joined the fleet"); len(lines) > 0 {
		t.Errorf("b was refused by a's fleet but logs that it joined: %q", lines)
	}
	// Each still routes to its own memcached.
	for _, x := range []struct {
		n  *badNode
		mc *proc
	}{{a, mc1}, {b, mc2}} {
		key := "two-fleets-" + strings.ReplaceAll(x.n.ip, ".", "-")
		if err := newClient(net.JoinHostPort(x.n.ip, strconv.Itoa(port))).Set(&memcache.Item{Key: key, Value: []byte("v")}); err != nil {
			t.Fatalf("set through %s: %v", x.n.ip, err)
		}
		if v, ok := directGet(t, x.mc.Addr, key); !ok || v != "v" {
			t.Errorf("%s no longer routes to its own fleet's memcached %s", x.n.ip, x.mc.Addr)
		}
	}
}

// TestFleetBadDataNotWritable: a cluster_data that cannot be created
// (under a regular file, which stops root too) stops moxi with one line
// naming cluster_data.
func TestFleetBadDataNotWritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := newBadNode(t, "127.0.1.6")
	n.data = filepath.Join(file, "sub")
	port := badFreeTCP(t, n.ip, n.ports()...)
	res := runMoxi(t, 15*time.Second, "-v", "-l", n.ip, "-z", fmt.Sprintf("%d=127.0.0.1:11211", port), "-Z", n.zFleet(""))
	if res.Code == 0 {
		t.Fatalf("exit code 0 with cluster_data under a regular file")
	}
	var final []string
	for line := range strings.SplitSeq(strings.TrimSpace(res.Stderr), "\n") {
		if strings.HasPrefix(line, "moxi: ") {
			final = append(final, line)
		}
	}
	if len(final) != 1 || !strings.Contains(final[0], "cluster_data") {
		t.Fatalf("want one line naming cluster_data, got %q; stderr:\n%s", final, res.Stderr)
	}
	t.Logf("exit %d: %s", res.Code, final[0])
}

// TestFleetBadOtherClusterName: a node of cluster_name b gossiping to a
// fleet of cluster_name a is not admitted (memberlist's Label).
func TestFleetBadOtherClusterName(t *testing.T) {
	mc := startMemcached(t)
	port := badFreeTCP(t, "127.0.1.7")
	a := badFirstNode(t, "127.0.1.7", fmt.Sprintf("%d=%s", port, mc.Addr), port, "cluster_name=a")
	b := newBadNode(t, "127.0.1.8")
	b.start(t, "join", a.bind(), "-Z", b.zFleet("cluster_name=b,cluster_join_timeout=3s"))
	// Checked at every poll while b tries, until it gives up.
	deadline := time.Now().Add(10 * time.Second)
	for !b.p.exited() && time.Now().Before(deadline) {
		st, err := a.status()
		if err != nil {
			t.Fatalf("a /status: %v", err)
		}
		if st.hasMember(b.bind()) || len(st.Members) != 1 {
			t.Fatalf("fleet a admitted a node of cluster_name b: %+v", st.Members)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !b.p.exited() {
		t.Errorf("the node of cluster_name b was still running 10s after start (join timeout 3s)")
	} else if code := b.p.cmd.ProcessState.ExitCode(); code == 0 {
		t.Errorf("the node of cluster_name b exited 0")
	}
	if tries := badCountLines(b.p.Output(), "join failed; retrying"); tries < 2 {
		t.Errorf("b logged %d join tries, want its failures logged:\n%s", tries, b.p.Output())
	}
	t.Logf("a's log about b: %q", badLinesWith(a.p.Output(), "label"))
}

// TestFleetBadStaticFileSIGHUP: a fleet on a static -z file: on SIGHUP
// the leader re-reads the file and every node applies the new map at one
// version; a broken file is rejected and the last good map stays.
func TestFleetBadStaticFileSIGHUP(t *testing.T) {
	mc1, mc2 := startMemcached(t), startMemcached(t)
	port := badFreeTCP(t, "127.0.1.9")
	file := filepath.Join(t.TempDir(), "fleet.cfg")
	writeCfg := func(s string) {
		t.Helper()
		if err := os.WriteFile(file+".tmp", []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(file+".tmp", file); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg(fmt.Sprintf("%d=%s\n", port, mc1.Addr))
	first := badFirstNode(t, "127.0.1.9", file, port, "")
	nodes := []*badNode{first,
		badJoinNode(t, "127.0.1.10", first, port, ""),
		badJoinNode(t, "127.0.1.11", first, port, "")}
	v0 := allAtOneVersion(t, nodes, port, 0, 10*time.Second)

	leader := badLeader(t, nodes)
	writeCfg(fmt.Sprintf("%d=%s,%s\n", port, mc1.Addr, mc2.Addr))
	hup := time.Now()
	leader.p.Signal(t, syscall.SIGHUP)
	v1 := allAtOneVersion(t, nodes, port, v0, 10*time.Second)
	// The leader also re-reads the file every second, so this cannot tell
	// SIGHUP from the timer; the time says which was likelier.
	t.Logf("all nodes at the new version %v after SIGHUP to the leader %s", time.Since(hup), leader.ip)
	for _, n := range nodes {
		st, _ := n.status()
		for _, m := range st.Maps {
			if m.Port == port && m.Servers != 2 {
				t.Errorf("%s serves version %d with %d servers, want 2", n.ip, m.Version, m.Servers)
			}
		}
	}
	t.Logf("new file applied everywhere at version %d (was %d)", v1, v0)

	rejectedBefore := badCountLines(leader.p.Output(), "rejected")
	writeCfg("this is not a moxi config\n")
	leader.p.Signal(t, syscall.SIGHUP)
	eventually(t, 5*time.Second, func() error {
		if badCountLines(leader.p.Output(), "rejected") <= rejectedBefore {
			return fmt.Errorf("the leader did not log the broken file as rejected")
		}
		return nil
	})
	t.Logf("rejection: %q", badLinesWith(leader.p.Output(), "rejected")[rejectedBefore])
	hold := time.Now()
	for time.Since(hold) < 2500*time.Millisecond {
		for _, n := range nodes {
			st, err := n.status()
			if err != nil {
				t.Fatalf("%s /status: %v", n.ip, err)
			}
			if v := st.version(port); v != v1 || !st.Serving {
				t.Fatalf("%s at version %d (serving %v) after a broken file, want the last good %d", n.ip, v, st.Serving, v1)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := badCountLines(leader.p.Output(), "rejected") - rejectedBefore; n != 1 {
		t.Errorf("the leader logged the broken file as rejected %d times in %v, want once", n, time.Since(hold))
	}
	// The last good map still routes to both servers.
	c := newClient(net.JoinHostPort(nodes[2].ip, strconv.Itoa(port)))
	for i := range 20 {
		if err := c.Set(&memcache.Item{Key: "sighup-" + strconv.Itoa(i), Value: []byte("v")}); err != nil {
			t.Fatalf("set after a broken file: %v", err)
		}
	}
}

// badLeader returns the node that says it is the established leader.
func badLeader(t *testing.T, nodes []*badNode) *badNode {
	t.Helper()
	var leader *badNode
	eventually(t, 10*time.Second, func() error {
		leader = nil
		for _, n := range nodes {
			st, err := n.status()
			if err != nil {
				return err
			}
			if st.Established {
				if leader != nil {
					return fmt.Errorf("two established leaders, %s and %s", leader.ip, n.ip)
				}
				leader = n
			}
		}
		if leader == nil {
			return fmt.Errorf("no established leader")
		}
		return nil
	})
	return leader
}

// allAtOneVersion waits until every node serves port at one version
// above after, and returns it.
func allAtOneVersion(t *testing.T, nodes []*badNode, port int, after uint64, timeout time.Duration) uint64 {
	t.Helper()
	var v uint64
	eventually(t, timeout, func() error {
		v = 0
		for _, n := range nodes {
			st, err := n.status()
			if err != nil {
				return err
			}
			got := st.version(port)
			if got <= after {
				return fmt.Errorf("%s at version %d, want above %d", n.ip, got, after)
			}
			if v != 0 && got != v {
				return fmt.Errorf("%s at version %d, another node at %d", n.ip, got, v)
			}
			v = got
		}
		return nil
	})
	return v
}
