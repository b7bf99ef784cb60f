package cluster

// Gossip on memberlist's MockNetwork: what the delegates record, and
// the two ways fleets are kept apart (cluster_name as memberlist's Label,
// the fleet ID checked by NotifyAlive).

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

type gossipNode struct {
	name string
	g    *gossip
	mt   *pumpedTransport
	log  *logCapture
}

// startMockGossip starts one gossip per (cluster name, fleet ID) pair on
// one mock network. Transports are all made before any memberlist runs.
func startMockGossip(t *testing.T, specs ...[2]string) []*gossipNode {
	t.Helper()
	mnet := &memberlist.MockNetwork{}
	nodes := make([]*gossipNode, len(specs))
	stop := make(chan struct{})
	for i := range specs {
		name := "node-" + strconv.Itoa(i)
		nodes[i] = &gossipNode{name: name, mt: newPumpedTransport(mnet.NewTransport(name), stop), log: newLogCapture(t, name)}
	}
	for i, spec := range specs {
		n := nodes[i]
		cfg := DefaultConfig()
		cfg.Fast, cfg.Name = true, spec[0]
		cfg.BindAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(30000+i))
		n.g = &gossip{logger: n.log.logger(), events: make(chan struct{}, 1), transport: n.mt,
			states: map[string]memberState{},
			meta:   nodeMeta{Raft: cfg.raftAddr(), Fleet: spec[1], Source: "source-of-" + spec[1]}}
		if err := startGossip(cfg, n.name, n.g); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.g.ml.Shutdown() })
	}
	t.Cleanup(func() { close(stop) })
	return nodes
}

func mockAddr(t *testing.T, n *gossipNode) string {
	t.Helper()
	ip, port, err := n.mt.FinalAdvertiseAddr("", 0)
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(port))
}

func stateOf(g *gossip, name string) (memberState, bool) {
	m, ok := g.members()[name]
	return m, ok
}

// TestGossipGracefulLeaveIsLeft: a member that leaves as Cluster.Shutdown
// does (on SIGTERM) must be recorded as left, not failed: reconcile removes a
// left member at once but a failed one only after cluster_reap.
func TestGossipGracefulLeaveIsLeft(t *testing.T) {
	nodes := startMockGossip(t, [2]string{"moxi", "f1"}, [2]string{"moxi", "f1"})
	a, b := nodes[0], nodes[1]
	if _, err := b.g.ml.Join([]string{mockAddr(t, a)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "b alive at a", func() error {
		if m, ok := stateOf(a.g, b.name); !ok || m.State != memberlist.StateAlive {
			return fmt.Errorf("b at a: %+v (known %v)", m, ok)
		}
		return nil
	})
	// As Cluster.Shutdown leaves.
	b.g.announceLeave(b.name, time.Second)
	if err := b.g.ml.Leave(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "b's leave recorded at a", func() error {
		m, ok := stateOf(a.g, b.name)
		if !ok || m.State == memberlist.StateAlive {
			return fmt.Errorf("b at a: %+v", m)
		}
		return nil
	})
	if m, _ := stateOf(a.g, b.name); m.State != memberlist.StateLeft {
		t.Fatalf("a member that left gracefully is recorded as %s, want left; a's log:\n%s",
			gossipState(m.State), a.log.String())
	}
}

// TestGossipOtherFleetRefused: a node of another fleet (same
// cluster_name, another fleet ID) is refused by NotifyAlive, and the
// refusal names both fleets.
func TestGossipOtherFleetRefused(t *testing.T) {
	nodes := startMockGossip(t, [2]string{"moxi", "fleetA"}, [2]string{"moxi", "fleetB"}, [2]string{"moxi", "fleetA"})
	a, b, a2 := nodes[0], nodes[1], nodes[2]
	if _, err := a2.g.ml.Join([]string{mockAddr(t, a)}); err != nil {
		t.Fatal(err)
	}
	_, _ = b.g.ml.Join([]string{mockAddr(t, a)})
	waitFor(t, 5*time.Second, "a2 alive at a", func() error {
		if _, ok := stateOf(a.g, a2.name); !ok {
			return fmt.Errorf("a does not know a2")
		}
		return nil
	})
	// Gossip several rounds, checking at every poll.
	holdsFor(t, time.Second, "fleets kept apart", func() error {
		if _, ok := stateOf(a.g, b.name); ok {
			return fmt.Errorf("a admitted b of another fleet")
		}
		if _, ok := stateOf(a2.g, b.name); ok {
			return fmt.Errorf("a2 admitted b of another fleet")
		}
		if _, ok := stateOf(b.g, a.name); ok {
			return fmt.Errorf("b admitted a of another fleet")
		}
		return nil
	})
	logs := a.log.String() + b.log.String()
	if !strings.Contains(logs, "fleetA") || !strings.Contains(logs, "fleetB") {
		t.Errorf("the refusal does not name both fleets; logs:\n%s", logs)
	}
}

// TestGossipLabelSeparatesClusterNames: cluster_name is memberlist's
// Label: a node of cluster_name b cannot join one of a.
func TestGossipLabelSeparatesClusterNames(t *testing.T) {
	nodes := startMockGossip(t, [2]string{"a", ""}, [2]string{"b", ""})
	a, b := nodes[0], nodes[1]
	if n, err := b.g.ml.Join([]string{mockAddr(t, a)}); err == nil || n != 0 {
		t.Errorf("a node of cluster_name b joined one of a: %d answered, err %v", n, err)
	}
	holdsFor(t, 500*time.Millisecond, "cluster names kept apart", func() error {
		if _, ok := stateOf(a.g, b.name); ok {
			return fmt.Errorf("a admitted b of cluster_name b")
		}
		return nil
	})
}

// TestNodeMetaFitsMetaMaxSize: the advertised meta stays under
// memberlist's limit whatever the source spec's length, and decodes.
func TestNodeMetaFitsMetaMaxSize(t *testing.T) {
	m := nodeMeta{Raft: "127.0.0.1:7947", Fleet: "0123456789abcdef", Version: "2.0.0-dev",
		Ports: "l=127.0.0.2 port_listen=11211", Source: strings.Repeat("http://membase:8091/pools/default/bucketsStreaming/default,", 40)}
	b := m.encode(memberlist.MetaMaxSize)
	if len(b) > memberlist.MetaMaxSize {
		t.Fatalf("meta is %d bytes, over %d", len(b), memberlist.MetaMaxSize)
	}
	got, err := decodeMeta(b)
	if err != nil || got.Raft != m.Raft || got.Fleet != m.Fleet {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	// A tighter limit drops the optional fields, never the raft address.
	if b := m.encode(96); len(b) > 96 {
		t.Errorf("meta is %d bytes with a limit of 96", len(b))
	}
}

// TestNodeMetaAdmin: the admin address travels in the meta, survives the
// trimming a tight limit makes, and meta of an older moxi (no "a" key)
// still decodes, with no admin address.
func TestNodeMetaAdmin(t *testing.T) {
	m := nodeMeta{Raft: "127.0.0.1:7947", Fleet: "0123456789abcdef", Admin: "127.0.0.1:8290",
		Ports: "l=127.0.0.2 port_listen=11211", Source: strings.Repeat("x", 100)}
	for _, limit := range []int{memberlist.MetaMaxSize, 96} {
		got, err := decodeMeta(m.encode(limit))
		if err != nil || got.Admin != m.Admin {
			t.Errorf("limit %d: decoded %+v, %v; want admin %q", limit, got, err, m.Admin)
		}
	}
	old, err := decodeMeta([]byte(`{"r":"10.0.0.5:7947","f":"abc","v":"1.9.0","p":"port_listen=11211"}`))
	if err != nil || old.Raft != "10.0.0.5:7947" || old.Admin != "" {
		t.Errorf("an older node's meta decoded as %+v, %v", old, err)
	}
}

// TestGossipSetAdminReachesPeers: an admin address set after gossip
// started (admin_listen with port 0 is known only once bound) reaches
// the other members.
func TestGossipSetAdminReachesPeers(t *testing.T) {
	nodes := startMockGossip(t, [2]string{"moxi", "f1"}, [2]string{"moxi", "f1"})
	a, b := nodes[0], nodes[1]
	if _, err := b.g.ml.Join([]string{mockAddr(t, a)}); err != nil {
		t.Fatal(err)
	}
	b.g.setAdmin("127.0.0.1:45678")
	waitFor(t, 5*time.Second, "b's admin address at a", func() error {
		if m, ok := stateOf(a.g, b.name); !ok || m.Meta.Admin != "127.0.0.1:45678" {
			return fmt.Errorf("b at a: %+v (known %v)", m, ok)
		}
		return nil
	})
}
