package node

import (
	"context"
	"github.com/moxifleet/moxi/mapstore"
	"strings"
	"testing"
)

// TestRESTFeedKeepsLastGoodMap: a good config replaces the map and bumps
// the version; bad JSON, a non-power-of-two map or one naming a missing
// server is rejected and the last good map stays.
func TestRESTFeedKeepsLastGoodMap(t *testing.T) {
	logger, _ := testLogger()
	f := &restFeed{bucket: "default", maps: &liveMap{}, logger: logger}
	good := `{"name":"default","nodeLocator":"vbucket","vBucketServerMap":{"hashAlgorithm":"CRC","numReplicas":0,` +
		`"serverList":["127.0.0.1:11210","127.0.0.1:11211"],"vBucketMap":[[0],[1],[0],[1]]}}`
	if err := f.handle(context.Background(), []byte(good), "http://127.0.0.1:8091/x"); err != nil {
		t.Fatal(err)
	}
	m := f.maps.Current()
	if m == nil || m.Version != 1 || len(m.Servers) != 2 || m.NumVBuckets() != 4 {
		t.Fatalf("map after a good config: %+v", m)
	}
	for _, bad := range []string{
		`{"name":"default",`,
		`{"vBucketServerMap":{"numReplicas":0,"serverList":["a:1"],"vBucketMap":[[0],[0],[0]]}}`,
		`{"vBucketServerMap":{"numReplicas":0,"serverList":["a:1"],"vBucketMap":[[0],[3]]}}`,
	} {
		if err := f.handle(context.Background(), []byte(bad), "http://127.0.0.1:8091/x"); err == nil {
			t.Errorf("config %s accepted", bad)
		}
		if f.maps.Current() != m {
			t.Fatalf("a rejected config replaced the map")
		}
	}
}

// TestRESTPoolFeed: a saslBucketsStreaming message goes to the proxy's
// pool whole; a bucket whose part is bad is named in keep (its last good
// map stays) while the others apply; a message bad as a whole applies
// nothing.
func TestRESTPoolFeed(t *testing.T) {
	logger, _ := testLogger()
	var gotMaps []*mapstore.Map
	var gotKeep []string
	calls := 0
	f := &restFeed{maps: &liveMap{}, logger: logger, applyPool: func(maps []*mapstore.Map, keep []string) error {
		calls++
		gotMaps, gotKeep = maps, keep
		return nil
	}}
	bucket := func(name, rows string) string {
		return `{"name":"` + name + `","saslPassword":"pw-` + name + `","nodeLocator":"vbucket","vBucketServerMap":{"hashAlgorithm":"CRC",` +
			`"numReplicas":0,"serverList":["127.0.0.1:11210"],"vBucketMap":[` + rows + `]}}`
	}
	doc := `{"buckets":[` + bucket("default", "[0],[0]") + `,` + bucket("bad", "[0],[0],[0]") + `,` + bucket("b2", "[0]") + `]}`
	if err := f.handle(context.Background(), []byte(doc), "http://127.0.0.1:8091/pools/default/saslBucketsStreaming"); err != nil {
		t.Fatalf("a message with one bad bucket: %v", err)
	}
	if calls != 1 || len(gotMaps) != 2 || gotMaps[0].Name != "default" || gotMaps[1].Name != "b2" ||
		gotMaps[1].Password != "pw-b2" || gotMaps[0].Version != 1 || len(gotKeep) != 1 || gotKeep[0] != "bad" {
		t.Fatalf("applied %d times: maps %v keep %v", calls, gotMaps, gotKeep)
	}
	if err := f.handle(context.Background(), []byte(`{"buckets":[`), "http://x/"); err == nil || calls != 1 {
		t.Fatalf("bad JSON: err %v, applied %d times", err, calls)
	}
	if err := f.handle(context.Background(), []byte(`{"buckets":[]}`), "http://x/"); err != nil || calls != 2 || len(gotMaps) != 0 {
		t.Fatalf("no buckets: err %v, applied %d times with %v", err, calls, gotMaps)
	}
}

// TestRESTSaslBucketsIsAPool: a saslBucketsStreaming URL makes a pool on
// port_listen, not a bucket named after the URL.
func TestRESTSaslBucketsIsAPool(t *testing.T) {
	opts := DefaultOptions()
	opts.ClusterConfig = "url=http://127.0.0.1:8091/pools/default/saslBucketsStreaming"
	n := mustNew(t, opts)
	cfg := n.ProxyConfig()
	if len(cfg.Buckets) != 0 || len(cfg.Pools) != 1 || cfg.Pools[0].Port != n.Behavior().PortListen {
		t.Fatalf("buckets %v pools %v", cfg.Buckets, cfg.Pools)
	}
	if len(n.feeds) != 1 || n.feeds[0].applyPool == nil {
		t.Fatal("the feed is not connected to the pool")
	}
}

// TestRESTPoolCannotShare: a saslBucketsStreaming section serves every
// bucket on port_listen, so another section beside it is refused.
func TestRESTPoolCannotShare(t *testing.T) {
	opts := DefaultOptions()
	opts.ClusterConfig = "url=http://a:8091/pools/default/saslBucketsStreaming;url=http://a:8091/pools/default/bucketsStreaming/b"
	logger, level := testLogger()
	if _, err := New(opts, logger, level); err == nil || !strings.Contains(err.Error(), "saslBucketsStreaming") {
		t.Fatalf("err = %v, want one naming saslBucketsStreaming", err)
	}
}
