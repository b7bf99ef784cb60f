package main

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// bucketJSON is a membase 1.6 bucket object, field for field as
// ns_server sent it (see testdata/moxi/vbucket_rest2.cfg).
type bucketJSON struct {
	Name             string          `json:"name"`
	BucketType       string          `json:"bucketType"`
	AuthType         string          `json:"authType"`
	SaslPassword     string          `json:"saslPassword"`
	ProxyPort        int             `json:"proxyPort"`
	URI              string          `json:"uri"`
	StreamingURI     string          `json:"streamingUri"`
	FlushCacheURI    string          `json:"flushCacheUri"`
	Nodes            []nodeJSON      `json:"nodes"`
	Stats            uriJSON         `json:"stats"`
	NodeLocator      string          `json:"nodeLocator"`
	VBucketServerMap vbServerMapJSON `json:"vBucketServerMap"`
	ReplicaNumber    int             `json:"replicaNumber"`
	Quota            quotaJSON       `json:"quota"`
	BasicStats       *basicStatsJSON `json:"basicStats,omitempty"`
}

type vbServerMapJSON struct {
	HashAlgorithm     string   `json:"hashAlgorithm"`
	NumReplicas       int      `json:"numReplicas"`
	ServerList        []string `json:"serverList"`
	VBucketMap        [][]int  `json:"vBucketMap"`
	VBucketMapForward [][]int  `json:"vBucketMapForward,omitempty"`
}

type nodeJSON struct {
	Uptime             string   `json:"uptime"`
	MemoryTotal        float64  `json:"memoryTotal"`
	MemoryFree         float64  `json:"memoryFree"`
	McdMemoryReserved  int      `json:"mcdMemoryReserved"`
	McdMemoryAllocated int      `json:"mcdMemoryAllocated"`
	ClusterMembership  string   `json:"clusterMembership"`
	Status             string   `json:"status"`
	Hostname           string   `json:"hostname"`
	Version            string   `json:"version"`
	OS                 string   `json:"os"`
	Ports              portJSON `json:"ports"`
}

type portJSON struct {
	Proxy  int `json:"proxy"`
	Direct int `json:"direct"`
}

type uriJSON struct {
	URI string `json:"uri"`
}

type quotaJSON struct {
	RAM    int64 `json:"ram"`
	RawRAM int64 `json:"rawRAM"`
}

type basicStatsJSON struct {
	QuotaPercentUsed float64 `json:"quotaPercentUsed"`
	OpsPerSec        float64 `json:"opsPerSec"`
	DiskFetches      float64 `json:"diskFetches"`
	ItemCount        int     `json:"itemCount"`
	DiskUsed         int64   `json:"diskUsed"`
	MemUsed          int64   `json:"memUsed"`
}

// nodeQuota is each node's memory for a bucket (memserver's default).
const nodeQuota = 64 << 20

// bucketViewLocked renders b as clients see it. restHost is the REST
// authority every node's hostname carries (all nodes share it; libvbucket
// tells them apart by ports.direct). stable leaves basicStats out, as
// bucketsStreamingConfig did.
func (c *cluster) bucketViewLocked(b *bucket, restHost string, stable bool) bucketJSON {
	base := "/pools/default/buckets/" + b.spec.name
	v := bucketJSON{
		Name: b.spec.name, BucketType: "membase", AuthType: "sasl", SaslPassword: b.spec.password,
		URI: base, StreamingURI: "/pools/default/bucketsStreaming/" + b.spec.name,
		FlushCacheURI: base + "/controller/doFlush", Nodes: c.nodesViewLocked(restHost),
		Stats: uriJSON{base + "/stats"}, NodeLocator: "vbucket", ReplicaNumber: c.cfg.replicas,
		Quota: quotaJSON{RAM: nodeQuota * int64(len(c.serverList)), RawRAM: nodeQuota},
		VBucketServerMap: vbServerMapJSON{
			HashAlgorithm: "CRC", NumReplicas: c.cfg.replicas, ServerList: c.serverAddrsLocked(),
			VBucketMap: c.positionsLocked(b.rows), VBucketMapForward: c.positionsLocked(b.forward),
		},
	}
	if !stable {
		v.BasicStats = c.basicStatsLocked(b)
	}
	return v
}

// renderBucket renders b's current config.
func (c *cluster) renderBucket(b *bucket, restHost string, stable bool) rendering {
	c.mu.Lock()
	v := c.bucketViewLocked(b, restHost, stable)
	c.mu.Unlock()
	return rendering{body: marshal(&v), key: marshal(layoutOf(v))}
}

// renderBuckets renders saslBucketsStreaming's {"buckets":[...]}.
func (c *cluster) renderBuckets(restHost string) rendering {
	type list struct {
		Buckets []bucketJSON `json:"buckets"`
	}
	all, layout := list{Buckets: []bucketJSON{}}, list{}
	c.mu.Lock()
	for _, b := range c.buckets {
		v := c.bucketViewLocked(b, restHost, true)
		all.Buckets = append(all.Buckets, v)
		layout.Buckets = append(layout.Buckets, layoutOf(v))
	}
	c.mu.Unlock()
	return rendering{body: marshal(&all), key: marshal(&layout)}
}

// layoutOf is v without what changes on its own (uptime, item counts),
// for deciding whether a stream has something new to say.
func layoutOf(v bucketJSON) bucketJSON {
	v.BasicStats = nil
	v.Nodes = slices.Clone(v.Nodes)
	for i := range v.Nodes {
		v.Nodes[i].Uptime = ""
	}
	return v
}

// marshal encodes the plain structs of this file, which cannot fail.
func marshal(v any) []byte {
	out, _ := json.Marshal(v)
	return out
}

func (c *cluster) serverAddrsLocked() []string {
	out := make([]string, len(c.serverList))
	for i, id := range c.serverList {
		out[i] = c.nodes[id].addr()
	}
	return out
}

// positionsLocked turns a map of node ids into serverList positions; nil
// stays nil (no forward map).
func (c *cluster) positionsLocked(rows [][]int) [][]int {
	if rows == nil {
		return nil
	}
	pos := map[int]int{}
	for i, id := range c.serverList {
		pos[id] = i
	}
	out := make([][]int, len(rows))
	for vb, row := range rows {
		out[vb] = make([]int, len(row))
		for i, id := range row {
			p, ok := pos[id]
			if !ok {
				p = -1
			}
			out[vb][i] = p
		}
	}
	return out
}

// nodesViewLocked lists the serverList's nodes; a killed node shows as
// unhealthy.
func (c *cluster) nodesViewLocked(restHost string) []nodeJSON {
	out := []nodeJSON{}
	uptime := strconv.Itoa(int(time.Since(c.started).Seconds()))
	for _, id := range c.serverList {
		n := c.nodes[id]
		status := "healthy"
		if !n.listening() {
			status = "unhealthy"
		}
		out = append(out, nodeJSON{Uptime: uptime, MemoryTotal: 8 << 30, MemoryFree: 4 << 30,
			McdMemoryReserved: nodeQuota >> 20, McdMemoryAllocated: nodeQuota >> 20,
			ClusterMembership: string(n.state), Status: status, Hostname: restHost,
			Version: mockVersion, OS: "membase-mock", Ports: portJSON{Direct: n.listenPort()}})
	}
	return out
}

func (c *cluster) basicStatsLocked(b *bucket) *basicStatsJSON {
	st := &basicStatsJSON{}
	for _, id := range c.serverList {
		s := c.nodes[id].servers[b.spec.name].Stats()
		st.ItemCount += s.CurrItems
		st.MemUsed += s.Bytes
	}
	if len(c.serverList) > 0 {
		st.QuotaPercentUsed = 100 * float64(st.MemUsed) / float64(nodeQuota*len(c.serverList))
	}
	return st
}
