package node

import (
	"context"
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
