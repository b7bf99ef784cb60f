package e2e

// The partition tests' network (partition_test.go): one network namespace
// per moxi node and one for membase-mock, each joined by a veth pair to a
// bridge inside a hub namespace of its own. The test process (the root
// namespace) is on that bridge too, as a monitoring host on both sides
// of every partition: it reads every node's /status and drives clients
// on each side. Partitions are iptables DROP rules inside a namespace,
// which cut TCP and UDP alike (gossip is both) with no RST or ICMP, as a
// dead link would, while the observer stays connected.
//
// The bridge lives in its own namespace rather than the root one: with
// br_netfilter loaded (Docker loads it) bridged frames pass the FORWARD
// chain of the bridge's namespace, whose policy Docker sets to DROP; the
// hub's chains are empty, and the host's firewall is left alone.

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// netLabSeq tells apart the labs of one test process (-count=10).
var netLabSeq atomic.Int32

// netLab is one test's namespaces, bridge and addresses.
type netLab struct {
	t        testing.TB
	ip       string // the ip command
	iptables string
	prefix   string // of namespace names: moxi-PID-SEQ
	subnet   string // 10.A.B: the lab's /24
	observer string // the root namespace's end of its veth pair
	spaces   []string
}

// Addresses in the lab's /24: membase's REST (ns_server) and its data
// nodes on two addresses of the mock's namespace, so that a partition can
// cut the config service and leave the data path up; moxi nodes from
// .11; the observer at .254.
const (
	labREST     = 1
	labData     = 2
	labNode0    = 11
	labObserver = 254
)

// newNetLab creates the hub with its bridge and the observer's link. It
// needs root; without it the test is skipped, or fails under CI=true.
func newNetLab(t testing.TB) *netLab {
	t.Helper()
	l := &netLab{t: t, ip: requireTool(t, "ip"), iptables: requireTool(t, "iptables")}
	if os.Geteuid() != 0 {
		msg := "network namespaces need root"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	seq := netLabSeq.Add(1)
	l.prefix = fmt.Sprintf("moxi-%d-%d", os.Getpid(), seq)
	l.subnet = labSubnet(t, os.Getpid(), int(seq))
	l.observer = fmt.Sprintf("mx%x-%do", os.Getpid(), seq) // at most 15 bytes: mx + 6 hex + -SEQ + o
	t.Cleanup(l.cleanup)
	hub := l.addNS("hub")
	l.run(l.ip, "-n", hub, "link", "add", "br0", "type", "bridge")
	l.run(l.ip, "-n", hub, "link", "set", "br0", "up")
	l.run(l.ip, "link", "add", l.observer, "type", "veth", "peer", "name", "obs", "netns", hub)
	l.run(l.ip, "-n", hub, "link", "set", "obs", "master", "br0", "up")
	l.run(l.ip, "addr", "add", l.addr(labObserver)+"/24", "dev", l.observer)
	l.run(l.ip, "link", "set", l.observer, "up")
	return l
}

// labSubnet picks 10.A.B from the pid and sequence number, skipping any
// /24 an interface of this host already has an address in.
func labSubnet(t testing.TB, pid, seq int) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for try := range 64 {
		n := pid*8 + seq + try*131
		subnet := fmt.Sprintf("10.%d.%d", 64+(n>>8)%128, n&0xff)
		taken := false
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && strings.HasPrefix(ipn.IP.String(), subnet+".") {
				taken = true
			}
		}
		if !taken {
			return subnet
		}
	}
	t.Fatal("no free 10.x.y.0/24 for the lab")
	return ""
}

func (l *netLab) addr(host int) string { return fmt.Sprintf("%s.%d", l.subnet, host) }

// run runs a setup command, failing the test on error.
func (l *netLab) run(args ...string) {
	l.t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		l.t.Fatalf("%q: %v\n%s", args, err, out)
	}
}

// addNS creates namespace prefix-name with its loopback up.
func (l *netLab) addNS(name string) string {
	l.t.Helper()
	ns := l.prefix + "-" + name
	l.run(l.ip, "netns", "add", ns)
	l.spaces = append(l.spaces, ns)
	l.run(l.ip, "-n", ns, "link", "set", "lo", "up")
	return ns
}

// host creates namespace name plugged into the bridge as eth0 with the
// given host numbers of the lab's /24, and returns it.
func (l *netLab) host(name string, hosts ...int) string {
	l.t.Helper()
	ns, hub := l.addNS(name), l.prefix+"-hub"
	l.run(l.ip, "-n", hub, "link", "add", name, "type", "veth", "peer", "name", "eth0", "netns", ns)
	l.run(l.ip, "-n", hub, "link", "set", name, "master", "br0", "up")
	for _, h := range hosts {
		l.run(l.ip, "-n", ns, "addr", "add", l.addr(h)+"/24", "dev", "eth0")
	}
	l.run(l.ip, "-n", ns, "link", "set", "eth0", "up")
	return ns
}

// cleanup deletes what newNetLab and host made, even after a failure:
// the observer's link (its peer goes with it) and every namespace, with
// their links and rules. The processes in them are gone by then (their
// cleanups were registered later, so they ran first).
func (l *netLab) cleanup() {
	var errs []string
	if out, err := exec.Command(l.ip, "link", "del", l.observer).CombinedOutput(); err != nil &&
		!strings.Contains(string(out), "Cannot find device") {
		errs = append(errs, fmt.Sprintf("ip link del %s: %v %s", l.observer, err, out))
	}
	for _, ns := range l.spaces {
		if out, err := exec.Command(l.ip, "netns", "del", ns).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Sprintf("ip netns del %s: %v %s", ns, err, out))
		}
	}
	if len(errs) > 0 {
		l.t.Errorf("lab cleanup: %s", strings.Join(errs, "; "))
	}
}

// drop adds DROP rules in namespace ns for traffic between local (one of
// its addresses, or "" for all) and each of peers, both ways.
func (l *netLab) drop(ns, local string, peers ...string) {
	l.t.Helper()
	for _, p := range peers {
		in := []string{"-A", "INPUT", "-s", p}
		out := []string{"-A", "OUTPUT", "-d", p}
		if local != "" {
			in = append(in, "-d", local)
			out = append(out, "-s", local)
		}
		for _, rule := range [][]string{in, out} {
			l.run(append([]string{l.ip, "netns", "exec", ns, l.iptables, "-w"}, append(rule, "-j", "DROP")...)...)
		}
	}
}

// heal removes every rule drop added in ns.
func (l *netLab) heal(ns string) {
	l.t.Helper()
	for _, chain := range []string{"INPUT", "OUTPUT"} {
		l.run(l.ip, "netns", "exec", ns, l.iptables, "-w", "-F", chain)
	}
}

// labFleet is a fleet whose nodes each run in a namespace of the lab.
type labFleet struct {
	*testFleet
	lab  *netLab
	mock *mockProc
	mns  string            // the mock's namespace
	ns   map[string]string // node name -> namespace
}

// startLabFleet starts membase-mock (two data nodes, 256 vbuckets, a
// rebalance in 16 steps 150 ms apart) and n
// moxi nodes in namespaces of a new lab, and returns once the nodes
// serve one map. The nodes use cluster_key and cluster TLS (fleetPKI):
// a non-loopback fleet refuses to run without them, and its admin
// server then asks the fleet's certificate for /status.
func startLabFleet(t *testing.T, n int) *labFleet {
	t.Helper()
	requireMoxi(t)
	lab := newNetLab(t)
	lf := &labFleet{lab: lab, ns: map[string]string{}}
	lf.mns = lab.host("mock", labREST, labData)
	lf.mock = startMockCmd(t, lab.ip, "netns", "exec", lf.mns, requireMock(t),
		"-rest", lab.addr(labREST)+":8091", "-host", lab.addr(labData), "-nodes", "2", "-vbuckets", "256",
		"-rebalance-step", "150ms") // 16 steps: a rebalance lasts over 2 s, for a cut to land in
	// Every namespace has ports of its own: the fleet takes the usual ones.
	f := &testFleet{t: t, gossipPort: 7946, proxyPort: 11211, adminPort: 8290}
	var ips []string
	for i := range n {
		nd := f.newNode(t, lab.addr(labNode0+i))
		lf.ns[nd.Name] = lab.host(fmt.Sprintf("n%d", i), labNode0+i)
		ips = append(ips, nd.IP)
	}
	pki := newFleetPKI(t, ips...)
	f.opts = fleetOptions{Source: fleetSource(lf.mock),
		NodeExtra:   func(nd *fleetNode) string { return pki.z(nd.IP) },
		AdminClient: pki.client(t, ips[0]),
		Netns:       func(nd *fleetNode) string { return lf.ns[nd.Name] }}
	t.Cleanup(f.cleanup)
	lf.testFleet = f
	f.Nodes[0].start(t, nil)
	f.waitConverged(t, f.Nodes[:1], startTimeout, nil)
	for _, nd := range f.Nodes[1:] {
		nd.start(t, []string{f.Nodes[0].Name})
	}
	f.waitConverged(t, f.Nodes, 3*startTimeout, nil)
	return lf
}

// isolate cuts nd off from the other nodes and, with rest, from
// membase's REST address (its data nodes stay reachable, so nd can go on
// serving its map). The observer keeps reaching it.
func (lf *labFleet) isolate(nd *fleetNode, rest bool) {
	lf.lab.t.Helper()
	var peers []string
	for _, o := range lf.Nodes {
		if o != nd {
			peers = append(peers, o.IP)
		}
	}
	if rest {
		peers = append(peers, lf.lab.addr(labREST))
	}
	lf.lab.drop(lf.ns[nd.Name], "", peers...)
}

// cutREST cuts membase's REST address off from every node; the data
// nodes, on the mock's other address, stay reachable.
func (lf *labFleet) cutREST() {
	lf.lab.t.Helper()
	var nodes []string
	for _, nd := range lf.Nodes {
		nodes = append(nodes, nd.IP)
	}
	lf.lab.drop(lf.mns, lf.lab.addr(labREST), nodes...)
}

// metric reads one unlabelled sample of nd's /metrics.
func metric(nd *fleetNode, name string) (float64, error) {
	resp, body, err := nd.get("/metrics")
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("%s /metrics: %s", nd.Name, resp.Status)
	}
	for line := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			_, err := fmt.Sscan(v, &f)
			return f, err
		}
	}
	return 0, fmt.Errorf("%s /metrics has no %s", nd.Name, name)
}

// waitMetric polls nd's metric until it is want, and returns how long
// that took.
func waitMetric(t testing.TB, nd *fleetNode, name string, want float64, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	eventually(t, timeout, func() error {
		v, err := metric(nd, name)
		if err == nil && v != want {
			err = fmt.Errorf("%s %s = %v, want %v", nd.Name, name, v, want)
		}
		return err
	})
	return time.Since(start)
}
