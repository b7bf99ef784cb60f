package e2e

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
)

// TestFleetChained: a fleet's servers may be another fleet. Fleet B (two
// nodes, a static host list naming fleet A's proxies) sits in front of
// fleet A (two nodes following the mock's REST stream): a value set
// through one B node is read through the other B node, through each A
// node, and straight from the data node that owns it.
func TestFleetChained(t *testing.T) {
	m := startMock(t, fleetMockArgs()...)
	a := startFleet(t, 2, fleetOptions{Source: fleetSource(m)})
	port := freePort(t)
	var hosts []string
	for _, nd := range a.Nodes {
		hosts = append(hosts, nd.Addr)
	}
	b := startFleet(t, 2, fleetOptions{Source: fmt.Sprintf("%d=%s", port, strings.Join(hosts, ","))})
	addrOfB := func(i int) string { return net.JoinHostPort(b.Nodes[i].IP, strconv.Itoa(port)) }
	waitServing(t, newVBClient(addrOfB(0)), startTimeout)
	kv := writeKeys(t, newVBClient(addrOfB(0)), "chain", 100)
	for name, addr := range map[string]string{"fleet B node 1": addrOfB(1), "fleet A node 0": a.Nodes[0].Addr,
		"fleet A node 1": a.Nodes[1].Addr} {
		if err := checkKeys(newVBClient(addr), kv); err != nil {
			t.Errorf("reading through %s: %v", name, err)
		}
	}
	for k, v := range kv {
		if where := mockWhere(m, k); !strings.Contains(where, fmt.Sprintf("has %q", v)) {
			t.Errorf("key %s is not on its data node: %s", k, where)
		}
		break
	}
	sts, err := statuses(b.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range sts {
		if st.Source != b.opts.Source || len(st.Maps) != 1 || st.Maps[0].Port != port || st.Maps[0].Servers != 2 {
			t.Errorf("fleet B node %d: source %q, maps %+v; want the static list of fleet A's 2 proxies on port %d",
				i, st.Source, st.Maps, port)
		}
	}
}
