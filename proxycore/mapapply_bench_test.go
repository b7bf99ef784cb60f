package proxycore

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/moxifleet/moxi/mapstore"
)

// vbucketConfig is a membase bucket config over nservers servers with
// 1024 vbuckets, masters rotating from server shift.
func vbucketConfig(nservers, shift int) []byte {
	var b strings.Builder
	b.WriteString(`{"name":"default","nodeLocator":"vbucket","vBucketServerMap":{"hashAlgorithm":"CRC","numReplicas":1,"serverList":[`)
	for i := range nservers {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"127.0.0.%d:11210"`, i+1)
	}
	b.WriteString(`],"vBucketMap":[`)
	for vb := range 1024 {
		if vb > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "[%d,%d]", (vb+shift)%nservers, (vb+shift+1)%nservers)
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

func benchBucket(tb testing.TB) (*bucket, *poolMap) {
	src := &poolMap{}
	b := newBucket(Bucket{Name: "default", Behavior: DefaultBehavior(), Maps: src}, 1, slog.New(slog.NewTextHandler(io.Discard, nil)))
	tb.Cleanup(b.close)
	return b, src
}

// BenchmarkApplyVBucketMap measures what a new 1024-vbucket map costs
// from the config text to the routing requests use: parse, publish, and
// the rebuild the first request after it does. The maps alternate between
// two layouts over the same 8 servers, as a rebalance's steps do. Target:
// under 1 ms.
func BenchmarkApplyVBucketMap(b *testing.B) {
	bk, src := benchBucket(b)
	configs := [][]byte{vbucketConfig(8, 0), vbucketConfig(8, 3)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m, err := mapstore.ParseBucket(configs[i%2])
		if err != nil {
			b.Fatal(err)
		}
		src.m.Store(m)
		if rt := bk.routing(); rt.m != m {
			b.Fatal("routing did not take the new map")
		}
		i++
	}
}

// BenchmarkRouteKeyVBucket measures the routing cost per key of a
// request under a 1024-vbucket map: the map in force, then key ->
// vbucket -> server.
func BenchmarkRouteKeyVBucket(b *testing.B) {
	bk, src := benchBucket(b)
	m, err := mapstore.ParseBucket(vbucketConfig(8, 0))
	if err != nil {
		b.Fatal(err)
	}
	src.m.Store(m)
	key := []byte("user:1234567890")
	b.ReportAllocs()
	for b.Loop() {
		if idx, _ := bk.routing().locate(key); idx < 0 {
			b.Fatal("no server")
		}
	}
}

// TestNewMapDoesNotPauseRequests: while one request rebuilds the routing
// for a new map, the others keep routing by the old one instead of
// waiting for it.
func TestNewMapDoesNotPauseRequests(t *testing.T) {
	bk, src := benchBucket(t)
	old, err := mapstore.ParseBucket(vbucketConfig(4, 0))
	if err != nil {
		t.Fatal(err)
	}
	src.m.Store(old)
	first := bk.routing()
	next, err := mapstore.ParseBucket(vbucketConfig(4, 1))
	if err != nil {
		t.Fatal(err)
	}
	bk.mu.Lock() // a rebuild in progress
	src.m.Store(next)
	got := make(chan *routing, 1)
	go func() { got <- bk.routing() }()
	select {
	case rt := <-got:
		if rt != first {
			t.Fatal("a request during the rebuild did not get the old routing")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a request waited for the rebuild of the routing")
	}
	bk.mu.Unlock()
	if rt := bk.routing(); rt.m != next || rt.servers[0] != first.servers[0] {
		t.Fatal("after the rebuild: want the new map over the same server objects")
	}
}
