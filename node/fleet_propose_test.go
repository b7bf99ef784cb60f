package node

// The leader proposes a REST config only when the fleet does not have
// it: the same bytes, or the same layout in other bytes (membase's
// uptime and memory counts), make no raft entry.

import (
	"context"
	"fmt"
	"testing"

	"github.com/moxifleet/moxi/mapstore"
)

// countingProposer records what the leader would replicate.
type countingProposer struct{ proposed [][]byte }

func (c *countingProposer) Propose(_ context.Context, data []byte) (uint64, error) {
	c.proposed = append(c.proposed, data)
	return uint64(len(c.proposed)), nil
}

// restBody is a streamed bucket config: two servers, four vBuckets with
// masters vbs, and a node uptime that changes on its own.
func restBody(uptime int, vbs [4]int, password string) []byte {
	return fmt.Appendf(nil, `{"name":"default","saslPassword":%q,"nodes":[`+
		`{"hostname":"10.0.0.1:8091","uptime":"%d","memoryFree":%d,"ports":{"direct":11210}},`+
		`{"hostname":"10.0.0.2:8091","uptime":"%d","memoryFree":%d,"ports":{"direct":11210}}],`+
		`"basicStats":{"itemCount":%d},`+
		`"vBucketServerMap":{"hashAlgorithm":"CRC","numReplicas":1,"serverList":["10.0.0.1:11210","10.0.0.2:11210"],`+
		`"vBucketMap":[[%d,%d],[%d,%d],[%d,%d],[%d,%d]]}}`,
		password, uptime, 1000+uptime, uptime+1, 2000+uptime, uptime*7,
		vbs[0], 1-vbs[0], vbs[1], 1-vbs[1], vbs[2], 1-vbs[2], vbs[3], 1-vbs[3])
}

func TestProposeSkipsSameLayout(t *testing.T) {
	const url = "http://10.0.0.1:8091/pools/default/bucketsStreamingConfig/default"
	const other = "http://10.0.0.2:8091/pools/default/bucketsStreamingConfig/default"
	n, _ := newApplyNode(t)
	applyEntry(t, n, 1, mapstore.EncodeSetSource(mapstore.Source{Kind: "rest", Spec: url + "," + other, FleetID: "f1"}))
	first := restBody(10, [4]int{0, 1, 0, 1}, "")
	applyEntry(t, n, 2, mapstore.EncodeSetConfig(mapstore.ConfigEntry{Section: 0, Origin: url, Body: first}))

	cases := []struct {
		name    string
		origin  string
		body    []byte
		propose bool
	}{
		{"the same bytes", url, first, false},
		{"uptime, memory and item counts moved", url, restBody(99, [4]int{0, 1, 0, 1}, ""), false},
		{"the same layout from another REST server", other, restBody(42, [4]int{0, 1, 0, 1}, ""), false},
		{"a vBucket moved", url, restBody(10, [4]int{0, 1, 1, 1}, ""), true},
		{"the bucket's password changed", url, restBody(10, [4]int{0, 1, 0, 1}, "secret"), true},
		{"not JSON", url, []byte("10.0.0.1:11210"), true},
	}
	for _, c := range cases {
		p := &countingProposer{}
		if err := n.propose(context.Background(), p, mapstore.ConfigEntry{Section: 0, Origin: c.origin, Body: c.body}); err != nil {
			t.Fatalf("%s: propose: %v", c.name, err)
		}
		if got := len(p.proposed) == 1; got != c.propose {
			t.Errorf("%s: proposed %v, want %v", c.name, got, c.propose)
		}
	}
}
