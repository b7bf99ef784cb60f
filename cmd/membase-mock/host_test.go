package main

import (
	"net"
	"strings"
	"testing"

	"github.com/moxifleet/moxi/internal/binproto"
)

// TestHostNamesNodes runs the mock with -host localhost, as a container
// would with its service name: the serverList and the nodes' hostnames
// carry that name, and a node dialled by it serves.
func TestHostNamesNodes(t *testing.T) {
	m := startMock(t, "-host", "localhost", "-nodes", "2", "-vbuckets", "16")
	cfg := fetchBucket(t, m, "default")
	for _, s := range cfg.VBucketServerMap.ServerList {
		if host, _, _ := net.SplitHostPort(s); host != "localhost" {
			t.Fatalf("serverList %q: want every entry on localhost", cfg.VBucketServerMap.ServerList)
		}
	}
	for _, n := range cfg.Nodes {
		if !strings.HasPrefix(n.Hostname, "localhost:") {
			t.Errorf("node hostname %q, want localhost:<rest port>", n.Hostname)
		}
	}
	const key = "k"
	c := dialBin(t, cfg.masterOf(key))
	if p := c.do(binproto.OpSet, uint16(vbucketOf([]byte(key), 16)), 1, setExtras(), key, "v"); p.Status() != binproto.StatusOK {
		t.Fatalf("set through the named node: status %#x", uint16(p.Status()))
	}
}
