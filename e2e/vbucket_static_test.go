package e2e

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/bradfitz/gomemcache/memcache"
)

// vbucketOf is libvbucket's CRC hashing of a key to a vbucket among n (a
// power of two).
func vbucketOf(key string, n int) int {
	return int(((crc32.ChecksumIEEE([]byte(key)) >> 16) & 0x7fff) & uint32(n-1))
}

// TestVBucketStaticFile serves a static vBucket map from a -z file and
// checks that every key lands on the memcached its vbucket's master names.
func TestVBucketStaticFile(t *testing.T) {
	ms := startMemcacheds(t, 2)
	vmap := [][]int{{0}, {1}, {0}, {1}}
	cfg := map[string]any{
		"hashAlgorithm": "CRC",
		"numReplicas":   0,
		"serverList":    []string{ms[0].Addr, ms[1].Addr},
		"vBucketMap":    vmap,
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "vbucket.cfg")
	if !filepath.IsAbs(file) {
		t.Fatalf("config path %q is not absolute", file)
	}
	moxi := startMoxi(t, func(port int) []string {
		if err := os.WriteFile(file, fmt.Appendf(nil, "%d = %s\n", port, js), 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{"-z", file}
	})

	c := newVBClient(moxi.Addr)
	direct := []*memcache.Client{newVBClient(ms[0].Addr), newVBClient(ms[1].Addr)}
	const n = 200
	for i := range n {
		key := fmt.Sprintf("static-%d", i)
		if err := c.Set(&memcache.Item{Key: key, Value: []byte("v-" + key), Flags: uint32(i)}); err != nil {
			t.Fatalf("set %s via moxi: %v", key, err)
		}
	}
	perServer := [2]int{}
	for i := range n {
		key := fmt.Sprintf("static-%d", i)
		it, err := c.Get(key)
		if err != nil {
			t.Fatalf("get %s via moxi: %v", key, err)
		}
		if string(it.Value) != "v-"+key || it.Flags != uint32(i) {
			t.Fatalf("get %s via moxi: value %q flags %d", key, it.Value, it.Flags)
		}
		master := vmap[vbucketOf(key, len(vmap))][0]
		perServer[master]++
		it, err = direct[master].Get(key)
		if err != nil {
			t.Fatalf("key %s (vb %d) not on its master %s: %v", key, vbucketOf(key, 4), ms[master].Addr, err)
		}
		if string(it.Value) != "v-"+key {
			t.Fatalf("key %s on %s: value %q", key, ms[master].Addr, it.Value)
		}
		if _, err := direct[1-master].Get(key); err != memcache.ErrCacheMiss {
			t.Fatalf("key %s (vb %d) also on non-master %s: %v", key, vbucketOf(key, 4), ms[1-master].Addr, err)
		}
	}
	if perServer[0] == 0 || perServer[1] == 0 {
		t.Fatalf("keys per server %v: the map should spread them", perServer)
	}
}

func newVBClient(addr string) *memcache.Client {
	c := memcache.New(addr)
	c.Timeout = ioTimeout
	c.MaxIdleConns = 16
	return c
}
