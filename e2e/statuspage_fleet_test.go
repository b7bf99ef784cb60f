package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pageFleet is GET /fleet (see node.FleetView).
type pageFleet struct {
	Node    string       `json:"node"`
	Leader  string       `json:"leader"`
	Members []pageMember `json:"members"`
}

type pageMember struct {
	Name      string          `json:"name"`
	Admin     string          `json:"admin"`
	Self      bool            `json:"self"`
	Reachable bool            `json:"reachable"`
	Error     string          `json:"error"`
	Status    *pageStatus     `json:"status"`
	History   json.RawMessage `json:"history"`
}

// fleetView fetches nd's /fleet and how long it took.
func fleetView(t *testing.T, nd *fleetNode, query string) (pageFleet, time.Duration) {
	t.Helper()
	start := time.Now()
	var fv pageFleet
	getJSON(t, "http://"+nd.Admin+"/fleet"+query, &fv)
	return fv, time.Since(start)
}

// TestStatusPageFleet: under load, one node's /fleet and page show every
// member of a 3-node fleet, each as it answered at the admin address
// gossip carries, with its requests, and the one leader; a paused member
// is soon shown unreachable while the others still show, and /fleet
// never waits for it.
func TestStatusPageFleet(t *testing.T) {
	requireTool(t, "chromium")
	mcs := startMemcacheds(t, 2)
	port := freePort(t)
	f := startFleet(t, 3, fleetOptions{Source: fmt.Sprintf("%d=%s", port, strings.Join(addrs(mcs), ","))})
	first := f.Nodes[0]
	stopLoad := loadEveryNode(t, f, port)
	var fv pageFleet
	eventually(t, 20*time.Second, func() error {
		fv, _ = fleetView(t, first, "?history=1")
		return fleetComplete(f, fv)
	})
	base := "http://" + first.Admin
	dom := renderedDOM(t, base+"/")
	checkPageFleet(t, dom, f, fv.Leader, "")
	screenshot(t, base+"/", "statuspage-fleet.png")
	stopLoad() // a client of the paused node would wait on it

	paused := pausedMember(t, f, fv.Leader)
	paused.proc().Signal(t, syscall.SIGSTOP)
	defer paused.proc().Signal(t, syscall.SIGCONT)
	eventually(t, 5*time.Second, func() error {
		fv, took := fleetView(t, first, "")
		if took >= time.Second { // it waited for the paused member
			t.Fatalf("/fleet took %v with a paused member", took)
		}
		for _, m := range fv.Members {
			if want := m.Name != paused.Name; m.Reachable != want || (m.Error == "") != want {
				return fmt.Errorf("member %s with %s paused: reachable %v, error %q", m.Name, paused.Name, m.Reachable, m.Error)
			}
		}
		return nil
	})
	checkPageFleet(t, renderedDOM(t, base+"/"), f, fv.Leader, paused.Name)
	screenshot(t, base+"/", "statuspage-fleet-paused.png")
}

// loadEveryNode drives every node's proxy port from a goroutine of its own
// (see textLoad); the function it returns stops them and fails the test
// on a wrong reply.
func loadEveryNode(t *testing.T, f *testFleet, port int) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	errs := make(chan error, len(f.Nodes))
	for _, nd := range f.Nodes {
		addr := net.JoinHostPort(nd.IP, strconv.Itoa(port))
		waitServing(t, newVBClient(addr), startTimeout)
		go func() { errs <- textLoad(ctx, addr, 20) }()
	}
	return func() {
		cancel()
		for range f.Nodes {
			if err := <-errs; err != nil {
				t.Errorf("load: %v", err)
			}
		}
	}
}

// fleetComplete says whether fv shows every node of f, each having
// answered with its own status at its admin address, and one leader that
// every member names.
func fleetComplete(f *testFleet, fv pageFleet) error {
	if len(fv.Members) != len(f.Nodes) {
		return fmt.Errorf("%d members, want %d", len(fv.Members), len(f.Nodes))
	}
	for i, nd := range f.Nodes {
		j := slices.IndexFunc(fv.Members, func(m pageMember) bool { return m.Name == nd.Name })
		if j < 0 {
			return fmt.Errorf("no member %s", nd.Name)
		}
		m := fv.Members[j]
		switch {
		case m.Admin != nd.Admin:
			return fmt.Errorf("member %s advertises admin %s, want %s", m.Name, m.Admin, nd.Admin)
		case !m.Reachable || m.Status == nil || m.History == nil:
			return fmt.Errorf("member %s: reachable %v, %s", m.Name, m.Reachable, m.Error)
		case m.Status.Node != nd.Name || m.Status.Leader != fv.Leader || m.Self != (i == 0):
			return fmt.Errorf("member %s answered as %s naming leader %s (self %v), /fleet names %s",
				m.Name, m.Status.Node, m.Status.Leader, m.Self, fv.Leader)
		case m.Status.Live == nil || len(m.Status.Maps) != 1:
			return fmt.Errorf("member %s: no live figures or maps yet", m.Name)
		case m.Status.Live.Node["req_rate"] == nil || *m.Status.Live.Node["req_rate"] == 0:
			return fmt.Errorf("member %s: no requests in its last second", m.Name)
		}
	}
	if fv.Leader == "" {
		return fmt.Errorf("no leader")
	}
	return nil
}

// checkPageFleet: the page's fleet table has a row per node, the leader
// alone marked, each reachable but down, with the map version every
// reachable member gave.
func checkPageFleet(t *testing.T, dom string, f *testFleet, leader, down string) {
	t.Helper()
	rows := pageMembers(dom)
	if len(rows) != len(f.Nodes) {
		t.Fatalf("the page's fleet table has members %s, want %d", joinKeys(rows), len(f.Nodes))
	}
	sts, err := statuses(f.Nodes[:1])
	if err != nil {
		t.Fatal(err)
	}
	for _, nd := range f.Nodes {
		row := rows[nd.Name]
		if row == nil {
			t.Errorf("no row for %s in %s", nd.Name, joinKeys(rows))
			continue
		}
		if want := strconv.FormatBool(nd.Name == leader); row["data-leader"] != want {
			t.Errorf("%s: data-leader %q, want %s (leader %s)", nd.Name, row["data-leader"], want, leader)
		}
		if want := strconv.FormatBool(nd.Name != down); row["data-reachable"] != want {
			t.Errorf("%s: data-reachable %q, want %s", nd.Name, row["data-reachable"], want)
		}
		if nd.Name == down {
			continue
		}
		v := domValue(t, dom, map[string]string{"data-member": nd.Name, "data-metric": "map_version"})
		if v != float64(sts[0].version()) {
			t.Errorf("%s: the page shows map version %v, /status %d", nd.Name, v, sts[0].version())
		}
		if down == "" { // under load: every member's own figures reached the page
			if r := domValue(t, dom, map[string]string{"data-member": nd.Name, "data-metric": "req_rate"}); r <= 0 {
				t.Errorf("%s: the page shows %v req/s under load", nd.Name, r)
			}
		}
	}
}

// pausedMember picks a node to pause: not the first (whose page is
// read), not the leader (so that the fleet stays calm).
func pausedMember(t *testing.T, f *testFleet, leader string) *fleetNode {
	t.Helper()
	for _, nd := range f.Nodes[1:] {
		if nd.Name != leader {
			return nd
		}
	}
	t.Fatal("no member to pause")
	return nil
}
