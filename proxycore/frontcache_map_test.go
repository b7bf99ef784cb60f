package proxycore

import (
	"fmt"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/moxifleet/moxi/mapstore"
)

// vbMap is a vBucket map over addrs with one master per vbucket.
func vbMap(t *testing.T, addrs []string, masters ...int) *mapstore.Map {
	t.Helper()
	rows := make([]string, len(masters))
	for i, m := range masters {
		rows[i] = fmt.Sprintf("[%d]", m)
	}
	js := fmt.Sprintf(`{"hashAlgorithm":"CRC","numReplicas":0,"serverList":["%s"],"vBucketMap":[%s]}`,
		strings.Join(addrs, `","`), strings.Join(rows, ","))
	m, err := mapstore.ParseBucket([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// keyInVBucket returns a key starting "k" that hashes to vb of n.
func keyInVBucket(vb, n int) string {
	for i := 0; ; i++ {
		k := fmt.Sprintf("k%d", i)
		if int((crc32.ChecksumIEEE([]byte(k))>>16)&0x7fff)&(n-1) == vb {
			return k
		}
	}
}

// TestFrontCacheMapChangeDropsMovedServers: a new map drops the cached
// keys of the servers whose vBuckets moved and keeps the others'. vb 3
// moves from server 0 to server 2, so server 1's keys stay cached (a
// write behind the proxy's back stays unseen for the lifespan) while
// server 0's are read again at once.
func TestFrontCacheMapChangeDropsMovedServers(t *testing.T) {
	ms, addrs := memcacheds(t, 3)
	maps := &swapMap{}
	maps.m.Store(vbMap(t, addrs, 0, 1, 2, 0))
	beh := DefaultBehavior()
	beh.DownstreamProtocol = "binary"
	frontCacheOn(&beh)
	p := startProxyConfig(t, Config{}, Bucket{Name: "default", Behavior: beh, Maps: maps})
	c := dial(t, p.addr)
	stay, gone := keyInVBucket(1, 4), keyInVBucket(0, 4) // on servers 1 and 0
	for _, k := range []string{stay, gone} {
		c.send("set " + k + " 0 0 3\r\nold\r\n")
		c.expect("STORED\r\n")
		waitCached(t, p, c, k, "old")
	}
	maps.m.Store(vbMap(t, addrs, 0, 1, 2, 2))
	for i, k := range map[int]string{1: stay, 0: gone} {
		d := dial(t, ms[i].Addr)
		d.send("set " + k + " 0 0 3\r\nnew\r\n")
		d.expect("STORED\r\n")
	}
	c.send("get " + gone + "\r\n") // the first request after the swap builds the new routing
	c.expect("VALUE " + gone + " 0 3\r\nnew\r\nEND\r\n")
	c.send("get " + stay + "\r\n")
	c.expect("VALUE " + stay + " 0 3\r\nold\r\nEND\r\n")
}

// waitCached gets k until the front cache answers it with value.
func waitCached(t *testing.T, p *testProxy, c *client, k, value string) {
	t.Helper()
	st := &onlyBucket(p).stats
	waitUntil(t, k+" cached", func() bool {
		before := st.get(totFrontCacheHits)
		c.send("get " + k + "\r\n")
		c.expect("VALUE " + k + " 0 " + fmt.Sprint(len(value)) + "\r\n" + value + "\r\nEND\r\n")
		return st.get(totFrontCacheHits) > before
	})
}
