package node

// A standalone proxy's map age: mapClock notes each map as it is applied
// (static maps at start, REST maps as their feed applies them) and ages
// only the version the proxy serves.

import (
	"context"
	"testing"
	"time"

	"github.com/moxifleet/moxi/mapstore"
	"github.com/moxifleet/moxi/proxycore"
)

func TestMapClockAge(t *testing.T) {
	var c mapClock
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	sample := proxycore.MapSample{Port: 11211, Bucket: "b", Version: 4}
	if _, ok := c.age(sample, at); ok {
		t.Error("an empty clock ages a map")
	}
	c.note(11211, "b", 4, at)
	if age, ok := c.age(sample, at.Add(90*time.Second)); !ok || age != 90*time.Second {
		t.Errorf("age = %v, %v; want 90s", age, ok)
	}
	for _, other := range []proxycore.MapSample{
		{Port: 11211, Bucket: "b", Version: 5}, // the proxy took a newer map than the clock saw
		{Port: 11211, Bucket: "c", Version: 4},
		{Port: 11212, Bucket: "b", Version: 4},
	} {
		if age, ok := c.age(other, at); ok {
			t.Errorf("%+v aged %v from another map's note", other, age)
		}
	}
	var none *mapClock
	none.note(1, "x", 1, at) // a fleet node's feed: no clock, no panic
}

// Static maps are noted when the proxy is built; a REST feed notes the
// version it applies, on port_listen.
func TestMapClockNotes(t *testing.T) {
	opts := DefaultOptions()
	opts.ClusterConfig = "11311=127.0.0.1:11211;11312=127.0.0.1:11212"
	before := time.Now()
	n := mustNew(t, opts)
	for _, port := range []int{11311, 11312} {
		age, ok := n.clock.age(proxycore.MapSample{Port: port, Bucket: "default", Version: 0}, time.Now())
		if !ok || age < 0 || age > time.Since(before) {
			t.Errorf("port %d: age %v, %v; want a note from New", port, age, ok)
		}
	}

	logger, _ := testLogger()
	var clock mapClock
	f := &restFeed{bucket: "default", maps: &liveMap{}, logger: logger, port: 11211, clock: &clock}
	good := `{"name":"default","nodeLocator":"vbucket","vBucketServerMap":{"hashAlgorithm":"CRC","numReplicas":0,` +
		`"serverList":["127.0.0.1:11210"],"vBucketMap":[[0],[0]]}}`
	for range 2 {
		if err := f.handle(context.Background(), []byte(good), "http://127.0.0.1:8091/x"); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := clock.age(proxycore.MapSample{Port: 11211, Bucket: "default", Version: 2}, time.Now()); !ok {
		t.Errorf("the feed's second map (version 2) was not noted: %+v", clock.at)
	}
	var pooled mapClock
	pool := &restFeed{maps: &liveMap{}, logger: logger, port: 11211, clock: &pooled,
		applyPool: func([]*mapstore.Map, []string) error { return nil }}
	doc := `{"buckets":[{"name":"p1","nodeLocator":"vbucket","vBucketServerMap":{"hashAlgorithm":"CRC","numReplicas":0,` +
		`"serverList":["127.0.0.1:11210"],"vBucketMap":[[0]]}}]}`
	if err := pool.handle(context.Background(), []byte(doc), "http://127.0.0.1:8091/pools/default/saslBucketsStreaming"); err != nil {
		t.Fatal(err)
	}
	if _, ok := pooled.age(proxycore.MapSample{Port: 11211, Bucket: "p1", Version: 1}, time.Now()); !ok {
		t.Errorf("the pool's bucket p1 was not noted: %+v", pooled.at)
	}
}
