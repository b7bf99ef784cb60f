package e2e

import (
	"strconv"
	"testing"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/couchbase/gomemcached"
)

// TestSASLBucketsStreaming runs moxi on the mock's saslBucketsStreaming
// URL, which streams every bucket on one port: text clients land on
// "default", a binary client that logs in as "other" gets that bucket's
// data and no one else's, and moxi's servers log in to the data nodes
// with each bucket's own credentials.
func TestSASLBucketsStreaming(t *testing.T) {
	m := startMock(t, "-rest", "127.0.0.1:0", "-nodes", "2", "-vbuckets", "64", "-buckets", "default,other:secret")
	url := m.rest + "/pools/default/saslBucketsStreaming"
	moxi := startMoxi(t, func(port int) []string {
		return []string{"-Z", "port_listen=" + strconv.Itoa(port), "-z", "url=" + url + ",auth=Administrator%password"}
	})
	text := newVBClient(moxi.Addr)
	waitServing(t, text, startTimeout)
	if err := text.Set(&memcache.Item{Key: "k", Value: []byte("in-default")}); err != nil {
		t.Fatalf("text set: %v", err)
	}

	bin := dialGomemcached(t, moxi.Addr)
	if res, err := bin.Auth("other", "wrong"); err == nil && res.Status == gomemcached.SUCCESS {
		t.Fatal("auth as other with a wrong password succeeded")
	}
	if res, err := bin.Auth("other", "secret"); err != nil || res.Status != gomemcached.SUCCESS {
		t.Fatalf("auth as other: %v %v", res, err)
	}
	if res, err := bin.Get(0, "k"); err == nil || !gomemcached.IsNotFound(err) {
		t.Fatalf("other sees default's key: %v %v", res, err)
	}
	if _, err := bin.Set(0, "k", 0, 0, []byte("in-other")); err != nil {
		t.Fatalf("set in other: %v", err)
	}
	res, err := bin.Get(0, "k")
	if err != nil || string(res.Body) != "in-other" {
		t.Fatalf("get in other: %v %v", res, err)
	}
	it, err := text.Get("k")
	if err != nil || string(it.Value) != "in-default" {
		t.Fatalf("default's value after other's set: %v %v", it, err)
	}
	var st mockStatus
	if err := m.getJSON("/mock/status", &st); err != nil {
		t.Fatal(err)
	}
	items := map[string]int{}
	for _, n := range st.Nodes {
		for b, c := range n.Items {
			items[b] += c
		}
	}
	if items["other"] == 0 || items["default"] == 0 {
		t.Fatalf("items per bucket on the data nodes %v: want both buckets written", items)
	}
}
