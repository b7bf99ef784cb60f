package cluster

// Gossip encryption (cluster_key): nodes whose keyrings cannot read each
// other never gossip, each side says why in one line, and the fleet's
// line is not repeated for every try.

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// startKeyedPair starts two gossips on a mock network of their own:
// "fleet" with keys fleetKeys, "joiner" with joinerKeys (nil: none).
func startKeyedPair(t *testing.T, fleetKeys, joinerKeys [][]byte) (fleet, joiner *gossipNode) {
	t.Helper()
	mnet := &memberlist.MockNetwork{}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	nodes := []*gossipNode{{name: "fleet"}, {name: "joiner"}}
	for _, n := range nodes {
		n.mt = newPumpedTransport(mnet.NewTransport(n.name), stop)
		n.log = newLogCapture(t, n.name)
	}
	for i, keys := range [][][]byte{fleetKeys, joinerKeys} {
		n := nodes[i]
		cfg := DefaultConfig()
		cfg.Fast, cfg.GossipKeys = true, keys
		cfg.BindAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(31000+i))
		n.g = &gossip{logger: n.log.logger(), events: make(chan struct{}, 1), transport: n.mt,
			states: map[string]memberState{}, meta: nodeMeta{Raft: cfg.raftAddr(), Fleet: "f1"}}
		if err := startGossip(cfg, n.name, n.g); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.g.ml.Shutdown() })
	}
	return nodes[0], nodes[1]
}

// TestGossipKeyMismatchRefused: a keyless node, a node of another key,
// and a keyed node joining a keyless fleet are all refused; the joiner's
// error and the fleet's log each name the mismatch in one line, and the
// fleet logs it once for three tries. The same key, and two keyrings in
// the middle of a rotation, do join.
func TestGossipKeyMismatchRefused(t *testing.T) {
	k1, k2 := testKey(1), testKey(2)
	for _, tc := range []struct {
		name                string
		fleetKeys, joinKeys [][]byte
		joinSays, fleetSays string // "" when the join must succeed
	}{
		{"keyless joiner", [][]byte{k1}, nil, "this node has none", "in the clear"},
		{"other key", [][]byte{k1}, [][]byte{k2}, "this node does not have", "this node does not have"},
		{"keyed joiner, keyless fleet", nil, [][]byte{k1}, "in the clear", "this node has none"},
		{"same key", [][]byte{k1}, [][]byte{k1}, "", ""},
		{"rotation: new key accepted, then used", [][]byte{k1, k2}, [][]byte{k2, k1}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fleet, joiner := startKeyedPair(t, tc.fleetKeys, tc.joinKeys)
			if tc.joinSays == "" {
				if _, err := joiner.g.ml.Join([]string{mockAddr(t, fleet)}); err != nil {
					t.Fatalf("join: %v", err)
				}
				waitFor(t, 5*time.Second, "joiner alive at the fleet", func() error {
					if m, ok := stateOf(fleet.g, joiner.name); !ok || m.State != memberlist.StateAlive {
						return fmt.Errorf("joiner at fleet: %+v (known %v)", m, ok)
					}
					return nil
				})
				return
			}
			checkKeyRefused(t, fleet, joiner, tc.joinSays, tc.fleetSays)
		})
	}
}

func checkKeyRefused(t *testing.T, fleet, joiner *gossipNode, joinSays, fleetSays string) {
	t.Helper()
	for try := range 3 {
		n, err := joiner.g.ml.Join([]string{mockAddr(t, fleet)})
		err = explainJoin(err)
		if n != 0 || !errors.Is(err, ErrGossipKey) || !strings.Contains(err.Error(), joinSays) {
			t.Fatalf("try %d: %d joined, err %v; want a cluster_key mismatch saying %q", try, n, err, joinSays)
		}
		if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "occurred") {
			t.Errorf("the join error is not one plain line: %q", err)
		}
	}
	waitFor(t, 2*time.Second, "the fleet's refusal logged", func() error {
		if lines := linesWith(fleet.log.String(), gossipRefused); len(lines) != 1 || !strings.Contains(lines[0], fleetSays) {
			return fmt.Errorf("fleet logged %q, want one line saying %q", lines, fleetSays)
		}
		return nil
	})
	holdsFor(t, 500*time.Millisecond, "the two kept apart", func() error {
		if _, ok := stateOf(fleet.g, joiner.name); ok {
			return errors.New("the fleet admitted the joiner")
		}
		if _, ok := stateOf(joiner.g, fleet.name); ok {
			return errors.New("the joiner admitted the fleet")
		}
		return nil
	})
	if lines := linesWith(fleet.log.String(), gossipRefused); len(lines) != 1 {
		t.Errorf("fleet logged the refusal %d times for 3 tries, want once: %q", len(lines), lines)
	}
	if lines := linesWith(fleet.log.String(), "level=ERROR"); len(lines) > 0 {
		t.Errorf("memberlist's own error lines reached the log too: %q", lines)
	}
}

func linesWith(out, s string) []string {
	var lines []string
	for line := range strings.SplitSeq(out, "\n") {
		if strings.Contains(line, s) {
			lines = append(lines, line)
		}
	}
	return lines
}

// TestRefusalLogRateLimited: one line per peer, message and reason a
// minute, the next one saying how many were held back; another peer or
// another reason is logged at once.
func TestRefusalLogRateLimited(t *testing.T) {
	var buf bytes.Buffer
	r := newRefusalLog(slog.New(slog.NewTextHandler(&buf, nil)))
	now := time.Unix(1000, 0)
	r.now = func() time.Time { return now }
	for range 5 {
		r.warn("refused", "10.0.0.1:4000", "why")
		now = now.Add(time.Second)
	}
	r.warn("refused", "10.0.0.2:4000", "why")
	r.warn("refused", "10.0.0.1:4001", "another")
	now = now.Add(refusalEvery)
	r.warn("refused", "10.0.0.1:5000", "why")
	lines := linesWith(buf.String(), "refused")
	want := []string{"peer=10.0.0.1 reason=why", "peer=10.0.0.2 reason=why", "peer=10.0.0.1 reason=another",
		"peer=10.0.0.1 reason=why repeated=4"}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		if !strings.HasSuffix(lines[i], w) {
			t.Errorf("line %d: %q, want it to end %q", i, lines[i], w)
		}
	}
}
