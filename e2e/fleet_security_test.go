package e2e

// An encrypted, authenticated fleet: gossip under cluster_key, raft and
// node-to-node HTTP under mutual TLS (cluster_tls_*), with the key from
// moxi keygen and the certificates from moxi tls-init. Nodes without the
// key, with another one, or with a certificate of another CA are kept
// out, and both sides say so; a fleet reachable from other hosts refuses
// to start without both, unless cluster_insecure=1. Every wait polls.

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/tlsconf"
)

// What the nodes log when they refuse a peer (cluster/gossip_key.go,
// cluster/raft_tls.go).
const (
	gossipRefusedLine = "gossip refused: cluster_key mismatch"
	raftRefusedLine   = "raft connection refused: TLS handshake failed"
)

// fleetPKI is a gossip key made by moxi keygen and a CA with node
// certificates made by moxi tls-init.
type fleetPKI struct {
	dir, key string
}

func newFleetPKI(t *testing.T, names ...string) *fleetPKI {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tls")
	if res := runMoxi(t, 30*time.Second, append([]string{"tls-init", dir}, names...)...); res.Code != 0 ||
		!strings.Contains(res.Stdout, "NOT FOR PRODUCTION") {
		t.Fatalf("moxi tls-init: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	return &fleetPKI{dir: dir, key: keygen(t)}
}

// keygen is a new gossip key from moxi keygen.
func keygen(t *testing.T) string {
	t.Helper()
	res := runMoxi(t, 10*time.Second, "keygen")
	if res.Code != 0 {
		t.Fatalf("moxi keygen: exit %d: %s", res.Code, res.Stderr)
	}
	return strings.TrimSpace(res.Stdout)
}

func (p *fleetPKI) files(name string) tlsconf.Files {
	return tlsconf.Files{Cert: filepath.Join(p.dir, name+".pem"), Key: filepath.Join(p.dir, name+"-key.pem"),
		CA: filepath.Join(p.dir, "ca.pem")}
}

// tlsZ is node name's cluster_tls_* keys.
func (p *fleetPKI) tlsZ(name string) string {
	f := p.files(name)
	return fmt.Sprintf("cluster_tls_cert=%s,cluster_tls_key=%s,cluster_tls_ca=%s", f.Cert, f.Key, f.CA)
}

// z is node name's cluster_key and cluster_tls_* keys.
func (p *fleetPKI) z(name string) string { return "cluster_key=" + p.key + "," + p.tlsZ(name) }

// client is an https client with name's certificate, as the nodes fetch
// each other's /status.
func (p *fleetPKI) client(t *testing.T, name string) *http.Client {
	t.Helper()
	_, cfg, err := tlsconf.Mutual(p.files(name))
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: fleetStatusTimeout, Transport: tr}
}

// startSecureFleet starts n nodes with the key and a certificate each,
// named by their addresses, and returns the fleet, its PKI, and
// certificates for extra node addresses made by the same tls-init.
func startSecureFleet(t *testing.T, n int, source string, extra []string) (*testFleet, *fleetPKI) {
	t.Helper()
	var pki *fleetPKI
	opts := fleetOptions{Source: source, NodeExtra: func(nd *fleetNode) string { return pki.z(nd.IP) }}
	f := startFleetHook(t, n, opts, func(f *testFleet) {
		names := append([]string(nil), extra...)
		for _, nd := range f.Nodes {
			names = append(names, nd.IP)
		}
		pki = newFleetPKI(t, names...)
		f.opts.AdminClient = pki.client(t, f.Nodes[0].IP)
	})
	return f, pki
}

// TestFleetSecure: a 3-node fleet with cluster_key and cluster_tls_*
// works end to end (one REST stream, one map everywhere, keys written
// through one node read through the others, each node's /fleet fetching
// the others' /status over https); the admin HTTP answers /status to the
// fleet's certificates only. Then three outsiders try to join: one with
// another key, one with no key, one with a certificate of another CA.
func TestFleetSecure(t *testing.T) {
	m := startMock(t, fleetMockArgs()...)
	outsiders := fleetIPs(t, 3)
	f, pki := startSecureFleet(t, 3, fleetSource(m), outsiders[:2])
	v, _ := f.waitStable(t, f.Nodes, 200*time.Millisecond, startTimeout, nil)
	if s := checkStreams(t, m, 1); s.StreamsTotal != 1 {
		t.Errorf("streams_total = %d: the fleet opened more than one stream", s.StreamsTotal)
	}
	kv := writeKeys(t, f.Nodes[0].client(), "secure", 100)
	for i, nd := range f.Nodes[1:] {
		if err := checkKeys(nd.client(), kv); err != nil {
			t.Errorf("node %d reading keys written through node 0: %v", i+1, err)
		}
	}
	checkFleetView(t, f)
	checkAdminNeedsCert(t, f.Nodes[0])
	for _, nd := range f.Nodes {
		for _, line := range []string{gossipRefusedLine, raftRefusedLine, "cluster_insecure"} {
			if strings.Contains(nd.output(), line) {
				t.Errorf("%s logged %q among its own fleet:\n%s", nd.Name, line, tailLines(nd.output(), 30))
			}
		}
	}
	t.Logf("3 nodes with cluster_key and cluster_tls_* serve map version %d", v)

	other := newFleetPKI(t, outsiders[2])
	t.Run("wrong key", func(t *testing.T) {
		keptOutOfGossip(t, f, outsiders[0], "cluster_key="+keygen(t)+","+pki.tlsZ(outsiders[0]),
			"encrypted with a cluster_key this node does not have", "encrypted with a cluster_key this node does not have")
	})
	t.Run("no key", func(t *testing.T) {
		keptOutOfGossip(t, f, outsiders[1], pki.tlsZ(outsiders[1]), "this node has none", "sends gossip in the clear")
	})
	t.Run("other CA", func(t *testing.T) {
		keptOutOfRaft(t, f, outsiders[2], "cluster_key="+pki.key+","+other.tlsZ(outsiders[2]), other.client(t, outsiders[2]))
	})
	if got := f.waitConverged(t, f.Nodes, startTimeout, nil); got != v {
		t.Errorf("the fleet's map went from version %d to %d while outsiders tried to join", v, got)
	}
}

// checkFleetView: each node's /fleet reaches every member's /status,
// which it fetches over https with its own certificate.
func checkFleetView(t *testing.T, f *testFleet) {
	t.Helper()
	for _, nd := range f.Nodes {
		var fv struct {
			Members []struct {
				Name      string `json:"name"`
				URL       string `json:"url"`
				Reachable bool   `json:"reachable"`
				Error     string `json:"error"`
			} `json:"members"`
		}
		_, b, err := nd.get("/fleet")
		if err != nil || json.Unmarshal(b, &fv) != nil || len(fv.Members) != len(f.Nodes) {
			t.Fatalf("%s /fleet: %v: %s", nd.Name, err, b)
		}
		for _, mb := range fv.Members {
			if !mb.Reachable || (mb.URL != "" && !strings.HasPrefix(mb.URL, "https://")) {
				t.Errorf("%s /fleet: member %s reachable %v at %q: %s", nd.Name, mb.Name, mb.Reachable, mb.URL, mb.Error)
			}
		}
	}
}

// checkAdminNeedsCert: under cluster TLS the admin HTTP speaks https;
// /status needs a certificate of the fleet's CA, /health and /metrics
// do not; plain http gets nothing.
func checkAdminNeedsCert(t *testing.T, nd *fleetNode) {
	t.Helper()
	anon := &http.Client{Timeout: fleetStatusTimeout, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // checks nothing, presents nothing
	for path, want := range map[string]int{"/status": http.StatusForbidden, "/fleet": http.StatusForbidden,
		"/health": http.StatusOK, "/metrics": http.StatusOK} {
		resp, err := anon.Get("https://" + nd.Admin + path)
		if err != nil {
			t.Errorf("GET %s without a certificate: %v", path, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s without a certificate: %d, want %d", path, resp.StatusCode, want)
		}
	}
	resp, err := (&http.Client{Timeout: fleetStatusTimeout}).Get("http://" + nd.Admin + "/status")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain http /status answered 200 under cluster TLS")
		}
	}
}

// keptOutOfGossip starts a node on ip that joins the fleet's first node
// with z (its key and certificate): it is never a member, it gives up
// with one line naming the cluster_key mismatch and why (says; its tries
// say so too), and the first node logs one refusal saying why
// (fleetSays), from the address the outsider's connections come from
// (on loopback, 127.0.0.1 whatever the outsider's own address).
func keptOutOfGossip(t *testing.T, f *testFleet, ip, z, says, fleetSays string) {
	t.Helper()
	first := f.Nodes[0]
	n := newBadNode(t, ip)
	port := badFreeTCP(t, ip, n.ports()...)
	p := n.start(t, "join", first.Name, "-Z", n.zFleet(fmt.Sprintf("%s,cluster_join_timeout=3s,port_listen=%d", z, port)))
	deadline := time.Now().Add(15 * time.Second)
	for !p.exited() && time.Now().Before(deadline) {
		neverMember(t, f, n.bind())
		time.Sleep(50 * time.Millisecond)
	}
	code, err := p.waitExit(time.Second)
	if err != nil || code == 0 {
		t.Fatalf("the outsider still runs, or exited 0 (%d, %v):\n%s", code, err, p.Output())
	}
	final := badLinesWith(p.Output(), "moxi: ")
	if len(final) != 1 || !strings.Contains(final[0], "cluster_key mismatch") || !strings.Contains(final[0], says) {
		t.Errorf("the outsider's last word %q, want one line naming the cluster_key mismatch (%q)", final, says)
	}
	if tries := badLinesWith(p.Output(), "join failed; retrying"); len(tries) == 0 || !strings.Contains(tries[0], "cluster_key mismatch") {
		t.Errorf("the outsider's join tries do not name the key: %q", tries)
	}
	eventually(t, 5*time.Second, func() error {
		var refusals []string
		for _, line := range badLinesWith(first.output(), gossipRefusedLine) {
			if strings.Contains(line, fleetSays) {
				refusals = append(refusals, line)
			}
		}
		if len(refusals) != 1 || !strings.Contains(refusals[0], "level=WARN") || !strings.Contains(refusals[0], "peer=127.0.0.1") {
			return fmt.Errorf("%s logged %q, want one WARN line %q saying %q", first.Name, refusals, gossipRefusedLine, fleetSays)
		}
		return nil
	})
	t.Logf("outsider: %s; fleet: %s", final, badLinesWith(first.output(), gossipRefusedLine))
}

// neverMember fails t if any node lists name as a member.
func neverMember(t *testing.T, f *testFleet, name string) {
	t.Helper()
	for _, nd := range f.Nodes {
		st, err := nd.status()
		if err != nil {
			t.Fatalf("%s /status: %v", nd.Name, err)
		}
		if _, ok := st.member(name); ok {
			t.Fatalf("%s admitted %s: %+v", nd.Name, name, st.Members)
		}
	}
}

// keptOutOfRaft starts a node on ip with the fleet's key but a
// certificate of another CA: gossip admits it, but it never gets the map
// and is never a voter; it gives up after cluster_join_timeout, and both
// it and the leader log the refused raft connection.
func keptOutOfRaft(t *testing.T, f *testFleet, ip, z string, own *http.Client) {
	t.Helper()
	lead, _ := f.leader(t, f.Nodes)
	n := newBadNode(t, ip)
	port := badFreeTCP(t, ip, n.ports()...)
	p := n.start(t, "join", f.Nodes[0].Name, "-Z", n.zFleet(fmt.Sprintf("%s,cluster_join_timeout=5s,port_listen=%d", z, port)))
	seen := false
	deadline := time.Now().Add(20 * time.Second)
	for !p.exited() && time.Now().Before(deadline) {
		st, err := lead.status()
		if err != nil {
			t.Fatalf("leader /status: %v", err)
		}
		if mb, ok := st.member(n.bind()); ok {
			seen = seen || mb.Gossip == "alive"
			if mb.Role == "voter" {
				t.Fatalf("the node of another CA became a voter: %+v", st.Members)
			}
		}
		if own, err := secureBadStatus(own, n.adminAddr()); err == nil && (own.Serving || len(own.Maps) > 0) {
			t.Fatalf("the node of another CA got a map: %+v", own.Maps)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !seen {
		t.Errorf("the node of another CA (with the right key) never showed alive in gossip")
	}
	if code, err := p.waitExit(time.Second); err != nil || code == 0 {
		t.Errorf("the node of another CA still runs, or exited 0 (%d, %v)", code, err)
	}
	if final := badLinesWith(p.Output(), "moxi: "); len(final) != 1 || !strings.Contains(final[0], "cluster_tls_") {
		t.Errorf("the node of another CA's last word %q, want one line pointing at cluster_tls_*", final)
	}
	eventually(t, 5*time.Second, func() error {
		if lines := badLinesWith(p.Output(), raftRefusedLine); len(lines) == 0 {
			return fmt.Errorf("the outsider logged no %q", raftRefusedLine)
		}
		for _, line := range badLinesWith(lead.output(), raftRefusedLine) {
			if strings.Contains(line, "peer="+ip) {
				return nil
			}
		}
		return fmt.Errorf("the leader %s logged no %q naming %s", lead.Name, raftRefusedLine, ip)
	})
	t.Logf("outsider: %s; leader: %s", badLinesWith(p.Output(), raftRefusedLine), badLinesWith(lead.output(), raftRefusedLine))
}

// secureBadStatus GETs a node's /status over https with client.
func secureBadStatus(client *http.Client, addr string) (badStatus, error) {
	var st badStatus
	resp, err := client.Get("https://" + addr + "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /status: %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// TestFleetSecureNonLoopback: a fleet node bound where other hosts can
// reach it (0.0.0.0, or this host's own address) without cluster_key and
// cluster_tls_* exits with one line naming what is missing; with
// cluster_insecure=1 it starts, serves, and logs one warning.
func TestFleetSecureNonLoopback(t *testing.T) {
	ip := nonLoopbackIP(t)
	for _, tc := range []struct {
		bind, extra string
		want        []string
		notWant     string
	}{
		{bind: "0.0.0.0", want: []string{"cluster_bind 0.0.0.0", "cluster_key", "cluster_tls_cert", "cluster_insecure=1"}},
		{bind: ip, want: []string{"cluster_bind " + ip, "not a loopback address", "cluster_key", "cluster_tls_cert"}},
		{bind: ip, extra: ",cluster_key=" + keygen(t), want: []string{"cluster_tls_cert"}, notWant: "cluster_key (or"},
	} {
		port := badFreeTCP(t, "127.0.0.1")
		z := fmt.Sprintf("cluster_bind=%s:%d,cluster_data=%s%s", tc.bind, badFreeTCP(t, "127.0.0.1"), t.TempDir(), tc.extra)
		res := runMoxi(t, 15*time.Second, "-z", fmt.Sprintf("%d=127.0.0.1:11211", port), "-Z", z)
		final := badLinesWith(strings.TrimSpace(res.Stderr), "moxi: ")
		if res.Code == 0 || len(final) != 1 {
			t.Errorf("bind %s%s: exit %d, want non-zero with one line; stderr:\n%s", tc.bind, tc.extra, res.Code, res.Stderr)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(final[0], w) {
				t.Errorf("bind %s: %q does not name %q", tc.bind, final[0], w)
			}
		}
		if tc.notWant != "" && strings.Contains(final[0], tc.notWant) {
			t.Errorf("bind %s: %q names %q, which is set", tc.bind, final[0], tc.notWant)
		}
	}
	checkInsecureStarts(t, ip)
}

// checkInsecureStarts: with cluster_insecure=1 a node on ip starts and
// serves its static map, and warns once.
func checkInsecureStarts(t *testing.T, ip string) {
	t.Helper()
	n := newBadNode(t, ip)
	n.admin = badFreeTCP(t, "127.0.0.1")
	port := badFreeTCP(t, ip, n.ports()...)
	p := n.start(t, "-z", fmt.Sprintf("%d=127.0.0.1:11211", port), "-Z",
		fmt.Sprintf("cluster_bind=%s,cluster_raft_port=%d,cluster_data=%s,admin_listen=127.0.0.1:%d,cluster_fast=true,cluster_insecure=1",
			n.bind(), n.raft, n.data, n.admin))
	eventually(t, 15*time.Second, func() error {
		if p.exited() {
			t.Fatalf("moxi with cluster_insecure=1 on %s exited: %v\n%s", ip, p.err, p.Output())
		}
		resp, err := (&http.Client{Timeout: time.Second}).Get("http://127.0.0.1:" + strconv.Itoa(n.admin) + "/health")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/health: %s", resp.Status)
		}
		return nil
	})
	warnings := badLinesWith(p.Output(), "cluster_insecure=1")
	if len(warnings) != 1 || !strings.Contains(warnings[0], "level=WARN") || !strings.Contains(warnings[0], n.bind()) {
		t.Errorf("want one WARN line naming cluster_insecure=1 and %s, got %q", n.bind(), warnings)
	}
}

// nonLoopbackIP is an IPv4 address of this host other hosts could reach;
// a host with none cannot run the check (outside CI the test is skipped).
func nonLoopbackIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
			return ipn.IP.String()
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("this host has no non-loopback IPv4 address to bind a fleet node to")
	}
	t.Skip("e2e: no non-loopback IPv4 address on this host; the non-loopback checks need one")
	return ""
}
