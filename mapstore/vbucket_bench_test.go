package mapstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// genVBucketConfig returns a flat vbucket config over nservers servers,
// n vbuckets and the given replicas, rows rotating through the servers.
func genVBucketConfig(nservers, n, replicas int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"name":"bench","saslPassword":"pw","nodeLocator":"vbucket","vBucketServerMap":{"hashAlgorithm":"CRC","numReplicas":%d,"serverList":[`, replicas)
	for i := range nservers {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"10.0.0.%d:11210"`, i+1)
	}
	b.WriteString(`],"vBucketMap":[`)
	for vb := range n {
		if vb > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		for r := range replicas + 1 {
			if r > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%d", (vb+r)%nservers)
		}
		b.WriteByte(']')
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

// BenchmarkParseBucket1024 parses 1024-vbucket configs: the real membase
// 1.6 one from bug 2112 and a generated 4-server, 2-replica one.
func BenchmarkParseBucket1024(b *testing.B) {
	real, err := os.ReadFile(filepath.Join(sharedTestdata(b), "libvbucket", "regression-bug2112"))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
	}{{"bug2112", real}, {"gen-4servers-2replicas", genVBucketConfig(4, 1024, 2)}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			for b.Loop() {
				m, err := ParseBucket(c.data)
				if err != nil || m.NumVBuckets() != 1024 {
					b.Fatalf("err %v", err)
				}
			}
		})
	}
}

// BenchmarkVBucketLocate is the request path: key -> vbucket -> master.
func BenchmarkVBucketLocate(b *testing.B) {
	m, err := ParseBucket(genVBucketConfig(4, 1024, 2))
	if err != nil {
		b.Fatal(err)
	}
	keys := benchKeys()
	b.ReportAllocs()
	sink := 0
	for i := 0; b.Loop(); i++ {
		k := keys[i&1023]
		sink += m.Master(m.VBucketOf(k)) + m.Locate(k)
	}
	_ = sink
}

// TestVBucketLocateAllocs: the vbucket request path allocates nothing.
func TestVBucketLocateAllocs(t *testing.T) {
	m, err := ParseBucket(genVBucketConfig(4, 1024, 2))
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("user:session:00001234")
	if n := testing.AllocsPerRun(100, func() {
		vb := m.VBucketOf(key)
		_ = m.Master(vb) + m.Replica(vb, 1) + m.ForwardMaster(vb) + m.Locate(key)
	}); n != 0 {
		t.Errorf("vbucket lookups allocate %v times per call", n)
	}
}

// TestGeneratedConfig checks the generator the benchmarks rely on, and
// rows across the whole table.
func TestGeneratedConfig(t *testing.T) {
	m, err := ParseBucket(genVBucketConfig(4, 1024, 2))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "bench" || m.User != "bench" || m.Password != "pw" || len(m.Servers) != 4 || m.NumReplicas() != 2 {
		t.Fatalf("got %s/%s/%s, %d servers, %d replicas", m.Name, m.User, m.Password, len(m.Servers), m.NumReplicas())
	}
	for vb := range uint16(1024) {
		if m.Master(vb) != int(vb)%4 || m.Replica(vb, 1) != (int(vb)+2)%4 {
			t.Fatalf("vb %d: master %d replica1 %d", vb, m.Master(vb), m.Replica(vb, 1))
		}
	}
	if m.Master(1024) != -1 || m.Replica(0, 2) != -1 || m.Replica(0, -1) != -1 {
		t.Errorf("out of range lookups: %d %d %d, want -1", m.Master(1024), m.Replica(0, 2), m.Replica(0, -1))
	}
}
