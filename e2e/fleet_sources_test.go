package e2e

// Fleet tests of the two other kinds of source a fleet can run: the
// saslBucketsStreaming pool (every bucket of the cluster on port_listen,
// chosen by SASL) and a static libvbucket JSON file re-read on SIGHUP.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/couchbase/gomemcached"
	mc "github.com/couchbase/gomemcached/client"
)

// TestFleetSaslBucketsPool: a 3-node fleet on the mock's
// saslBucketsStreaming URL serves every bucket on every node: what a
// client logged in as a bucket sets through node 0 is read by a client
// logged in as that bucket on the others, and by no other bucket. The
// fleet holds one stream, and /status lists every bucket at one version.
func TestFleetSaslBucketsPool(t *testing.T) {
	buckets := map[string]string{"default": "", "other": "secret", "third": "s3cr3t"}
	m := startMock(t, "-rest", "127.0.0.1:0", "-nodes", "2", "-vbuckets", "64",
		"-buckets", "default,other:secret,third:s3cr3t")
	src := "url=" + m.rest + "/pools/default/saslBucketsStreaming,auth=Administrator%password"
	f := startFleet(t, 3, fleetOptions{Source: src})

	// Every node lists the three buckets on port_listen, all at the one
	// version the fleet agrees on.
	allBuckets := func(sts []fleetStatus) error {
		for _, st := range sts {
			var names []string
			for _, mi := range st.Maps {
				if mi.Port != f.proxyPort {
					return fmt.Errorf("%s: map of bucket %q on port %d, want %d", st.Node, mi.Bucket, mi.Port, f.proxyPort)
				}
				if mi.Version != st.version() {
					return fmt.Errorf("%s: bucket %q at version %d, %q at %d", st.Node, mi.Bucket, mi.Version, st.Maps[0].Bucket, st.version())
				}
				if mi.Servers != 2 {
					return fmt.Errorf("%s: bucket %q with %d servers, want 2", st.Node, mi.Bucket, mi.Servers)
				}
				names = append(names, mi.Bucket)
			}
			slices.Sort(names)
			if !slices.Equal(names, []string{"default", "other", "third"}) {
				return fmt.Errorf("%s: /status lists buckets %q, want default, other, third", st.Node, names)
			}
		}
		return nil
	}
	v, sts := f.waitStable(t, f.Nodes, 200*time.Millisecond, startTimeout, allBuckets)
	t.Logf("3 nodes serve 3 buckets at map version %d; applied on all within %v", v, appliedSpread(sts, v))

	// Writes through node 0: the same key in every bucket, and a key of
	// each bucket's own.
	for _, nd := range f.Nodes {
		waitServing(t, nd.client(), startTimeout)
	}
	writers := map[string]*mc.Client{}
	for b, pw := range buckets {
		c := dialGomemcached(t, f.Nodes[0].Addr)
		if b != "default" {
			saslAuth(t, c, b, pw)
		}
		writers[b] = c
		for _, k := range []string{"shared", "only-" + b} {
			if _, err := c.Set(0, k, 0, 0, []byte(b+"-"+k)); err != nil {
				t.Fatalf("node 0 as %s: set %s: %v", b, k, err)
			}
		}
	}
	text := writeKeys(t, f.Nodes[0].client(), "pool-text", 100) // text clients land on default

	for _, nd := range f.Nodes[1:] {
		for b, pw := range buckets {
			c := dialGomemcached(t, nd.Addr)
			if b != "default" {
				if res, err := c.Auth(b, pw+"-wrong"); err == nil && res.Status == gomemcached.SUCCESS {
					t.Errorf("node %d: auth as %s with a wrong password succeeded", nd.Index, b)
				}
				saslAuth(t, c, b, pw)
			}
			for _, k := range []string{"shared", "only-" + b} {
				res, err := c.Get(0, k)
				if err != nil || string(res.Body) != b+"-"+k {
					t.Errorf("node %d as %s: get %s = %v, %v; want %q as set through node 0", nd.Index, b, k, res, err, b+"-"+k)
				}
			}
			for o := range buckets {
				if o == b {
					continue
				}
				if res, err := c.Get(0, "only-"+o); !gomemcached.IsNotFound(err) {
					t.Errorf("node %d as %s sees %s's key only-%s: %v, %v", nd.Index, b, o, o, res, err)
				}
			}
		}
		if err := checkKeys(nd.client(), text); err != nil {
			t.Errorf("node %d, text client: keys written through node 0: %v", nd.Index, err)
		}
		if it, err := nd.client().Get("only-other"); !errors.Is(err, memcache.ErrCacheMiss) {
			t.Errorf("node %d: a text client (default) sees other's key: %v, %v", nd.Index, it, err)
		}
	}

	var ms mockStatus
	if err := m.getJSON("/mock/status", &ms); err != nil {
		t.Fatal(err)
	}
	items := map[string]int{}
	for _, n := range ms.Nodes {
		for b, c := range n.Items {
			items[b] += c
		}
	}
	for b := range buckets {
		if items[b] == 0 {
			t.Errorf("items per bucket on the mock's data nodes %v: nothing in %s", items, b)
		}
	}
	if s := checkStreams(t, m, 1); s.StreamsTotal != 1 {
		t.Errorf("streams_total = %d: the fleet opened more than one saslBucketsStreaming stream", s.StreamsTotal)
	}
	if sts, err := statuses(f.Nodes); err != nil {
		t.Error(err)
	} else if err := allBuckets(sts); err != nil {
		t.Errorf("after the clients: %v", err)
	} else if _, err := converged(f.Nodes, sts); err != nil {
		t.Errorf("after the clients: %v", err)
	}
}

// saslAuth logs c in as bucket with password, failing t if refused.
func saslAuth(t *testing.T, c *mc.Client, bucket, password string) {
	t.Helper()
	res, err := c.Auth(bucket, password)
	if err != nil || res.Status != gomemcached.SUCCESS {
		t.Fatalf("auth as %s: %v %v", bucket, res, err)
	}
}

// TestFleetStaticVBucketFile: a 3-node fleet on a static -z file holding a
// libvbucket JSON map serves it at one version on every node; rewritten
// with a map that moves two of four vbuckets to a new server, SIGHUP to
// the leader makes every node apply it, and every node routes by it.
func TestFleetStaticVBucketFile(t *testing.T) {
	ms := startMemcacheds(t, 3)
	direct := []*memcache.Client{newVBClient(ms[0].Addr), newVBClient(ms[1].Addr), newVBClient(ms[2].Addr)}
	file := filepath.Join(t.TempDir(), "vbucket.cfg")
	var port int
	writeMap := func(servers []string, vmap [][]int) {
		t.Helper()
		js, err := json.Marshal(map[string]any{"hashAlgorithm": "CRC", "numReplicas": 0,
			"serverList": servers, "vBucketMap": vmap})
		if err != nil {
			t.Fatal(err)
		}
		// Written whole, then renamed: the leader re-reads the file every
		// second too, and must not see half of it.
		if err := os.WriteFile(file+".tmp", fmt.Appendf(nil, "%d = %s\n", port, js), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(file+".tmp", file); err != nil {
			t.Fatal(err)
		}
	}
	map1 := [][]int{{0}, {1}, {0}, {1}}
	map2 := [][]int{{0}, {1}, {2}, {2}} // vbuckets 2 and 3 move to the new server
	f := startFleetHook(t, 3, fleetOptions{Source: file}, func(f *testFleet) {
		port = f.proxyPort // the file names the port every node serves
		writeMap([]string{ms[0].Addr, ms[1].Addr}, map1)
	})
	servers := func(n int) func([]fleetStatus) error {
		return func(sts []fleetStatus) error {
			for _, st := range sts {
				if len(st.Maps) != 1 || st.Maps[0].Port != port || st.Maps[0].Servers != n {
					return fmt.Errorf("%s: maps %+v, want one on port %d with %d servers", st.Node, st.Maps, port, n)
				}
			}
			return nil
		}
	}
	v1, sts := f.waitStable(t, f.Nodes, 200*time.Millisecond, startTimeout, servers(2))
	t.Logf("3 nodes serve the static map at version %d, applied on all within %v", v1, appliedSpread(sts, v1))
	for _, nd := range f.Nodes {
		waitServing(t, nd.client(), startTimeout)
	}

	// Before: keys set through node 0 are read through 1 and 2, and each
	// is on its master by map1 only.
	before := writeKeys(t, f.Nodes[0].client(), "static-before", 100)
	for _, nd := range f.Nodes[1:] {
		if err := checkKeys(nd.client(), before); err != nil {
			t.Errorf("node %d reading keys set through node 0: %v", nd.Index, err)
		}
	}
	checkVBPlacement(t, direct, map1, before)

	lead, _ := f.leader(t, f.Nodes)
	writeMap([]string{ms[0].Addr, ms[1].Addr, ms[2].Addr}, map2)
	hup := time.Now()
	lead.proc().Signal(t, syscall.SIGHUP)
	v2, sts := f.waitStable(t, f.Nodes, 200*time.Millisecond, 10*time.Second, func(sts []fleetStatus) error {
		if sts[0].version() <= v1 {
			return fmt.Errorf("version %d, not past %d", sts[0].version(), v1)
		}
		return servers(3)(sts)
	})
	t.Logf("SIGHUP to leader %s: version %d -> %d on every node %v later (applied on all within %v; "+
		"the leader also re-reads the file every second)", lead.Name, v1, v2, time.Since(hup).Round(time.Millisecond),
		appliedSpread(sts, v2))

	// Every node routes by map2: keys of vbuckets 0 and 1 are where they
	// were; those of 2 and 3 are looked for on the new, empty server.
	for _, nd := range f.Nodes {
		c := nd.client()
		for k, want := range before {
			it, err := c.Get(k)
			if vb := vbucketOf(k, 4); map2[vb][0] == map1[vb][0] {
				if err != nil || string(it.Value) != want {
					t.Errorf("node %d: %s (vbucket %d, not moved) = %v, %v; want %q", nd.Index, k, vb, it, err, want)
				}
			} else if !errors.Is(err, memcache.ErrCacheMiss) {
				t.Errorf("node %d: %s (vbucket %d, moved to %s) = %v, %v; want a miss from the new server",
					nd.Index, k, vb, ms[2].Addr, it, err)
			}
		}
	}
	// After: keys set through each node are read through the next, and sit
	// on their masters by map2.
	for i, nd := range f.Nodes {
		after := writeKeys(t, nd.client(), fmt.Sprintf("static-after-%d", i), 100)
		next := f.Nodes[(i+1)%len(f.Nodes)]
		if err := checkKeys(next.client(), after); err != nil {
			t.Errorf("node %d reading keys set through node %d after the reload: %v", next.Index, i, err)
		}
		checkVBPlacement(t, direct, map2, after)
	}
	if sts, err := statuses(f.Nodes); err != nil {
		t.Error(err)
	} else if v, err := converged(f.Nodes, sts); err != nil || v != v2 {
		t.Errorf("at the end: version %d, %v; want %d everywhere", v, err, v2)
	}
}

// checkVBPlacement fails t unless each key of kv is on its master by vmap
// and on no other of the servers.
func checkVBPlacement(t *testing.T, direct []*memcache.Client, vmap [][]int, kv map[string]string) {
	t.Helper()
	used := map[int]int{}
	for k, want := range kv {
		vb := vbucketOf(k, len(vmap))
		master := vmap[vb][0]
		used[master]++
		for i, c := range direct {
			it, err := c.Get(k)
			switch {
			case i == master && (err != nil || string(it.Value) != want):
				t.Errorf("%s (vbucket %d) on its master, server %d: %v, %v; want %q", k, vb, i, it, err, want)
			case i != master && err == nil && string(it.Value) == want:
				t.Errorf("%s (vbucket %d) also on server %d, its master is %d", k, vb, i, master)
			case i != master && err != nil && !errors.Is(err, memcache.ErrCacheMiss):
				t.Errorf("%s on server %d: %v", k, i, err)
			}
		}
	}
	for i := range vmap {
		if used[vmap[i][0]] == 0 {
			t.Errorf("no key on server %d (keys per server %v): the keys do not cover the map", vmap[i][0], used)
		}
	}
}
