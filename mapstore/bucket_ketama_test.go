package mapstore

import (
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestKetamaBucketEightNodes: the memcached-bucket config becomes a
// KetamaWeighted map over its nodes' host:ports.direct, and routes keys
// "0".."999" as the libvbucket-derived table says (compared by authority,
// the only thing a client can observe).
func TestKetamaBucketEightNodes(t *testing.T) {
	m := libvbucketConfig(t, "ketama-eight-nodes")
	if m.IsVBucket() || m.Dist != KetamaWeighted || m.NumVBuckets() != 0 || m.VBucketOf([]byte("x")) != 0 || m.Master(0) != -1 {
		t.Fatalf("IsVBucket %v Dist %s NumVBuckets %d: want a plain ketama map", m.IsVBucket(), m.Dist, m.NumVBuckets())
	}
	if want := eightNodes(t); !slices.Equal(m.Servers, want) {
		t.Errorf("servers %v, want %v", m.Servers, want)
	}
	if n := m.Node(0); n.RESTAuthority != "172.16.16.76:9000" || !n.ThisNode || n.CouchAPIBase != "http://172.16.16.76:9500/default" {
		t.Errorf("node of server 0 (%s) = %+v", m.Servers[0], n)
	}
	header, rows := readTSV(t, filepath.Join(sharedTestdata(t), "libvbucket", "ketama-eight-nodes-keys0-999.tsv"))
	keyCol, srvCol := column(t, header, "key"), column(t, header, "server")
	if len(rows) != 1000 {
		t.Errorf("fixture has %d rows, want 1000", len(rows))
	}
	for _, row := range rows {
		if got := m.Servers[m.Locate([]byte(row[keyCol]))].String(); got != row[srvCol] {
			t.Errorf("Locate(%q) -> %s, want %s", row[keyCol], got, row[srvCol])
		}
	}
}

// TestKetamaBucketChecksum is libvbucket's testketama.c: md5 over the
// authorities chosen for keys "0".."999999" (about half a second per
// config; skipped under -short).
func TestKetamaBucketChecksum(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000 keys per config")
	}
	exp := loadExpectations(t).KetamaChecksum
	for _, name := range []string{"ketama-eight-nodes", "ketama-ordered-eight-nodes"} {
		sum, err := os.ReadFile(filepath.Join(sharedTestdata(t), "libvbucket", name+".md5sum"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(sum)) != exp[name] {
			t.Fatalf("%s.md5sum %q disagrees with the expectations %q", name, sum, exp[name])
		}
		m := libvbucketConfig(t, name)
		auths := make([]string, len(m.Servers))
		for i, s := range m.Servers {
			auths[i] = s.String()
		}
		h := md5.New()
		key := make([]byte, 0, 8)
		for i := range 1000000 {
			key = strconv.AppendInt(key[:0], int64(i), 10)
			h.Write([]byte(auths[m.Locate(key)]))
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != exp[name] {
			t.Errorf("%s: checksum %s, want %s", name, got, exp[name])
		}
	}
}

// TestKetamaBucketSources: serverList wins when it is an array; otherwise
// nodes[], without unhealthy nodes and without the REST port.
func TestKetamaBucketSources(t *testing.T) {
	for _, tc := range []struct {
		name, cfg string
		want      []string
	}{
		{"nodes, filtered", `{"nodeLocator":"ketama","nodes":[
			{"hostname":"10.0.0.3:8091","status":"healthy","ports":{"direct":11210}},
			{"hostname":"10.0.0.1:8091","status":"unhealthy","ports":{"direct":11210}},
			{"hostname":"10.0.0.2","ports":{"direct":11211}},
			{"hostname":"10.0.0.4:8091","status":"warmup","ports":{"direct":11210}},
			{"hostname":"[::1]:8091","ports":{"direct":11212}}]}`,
			[]string{"10.0.0.2:11211", "10.0.0.3:11210", "[::1]:11212"}},
		{"serverList wins", `{"nodeLocator":"ketama","vBucketServerMap":{"serverList":["b:2","a:1"],"vBucketMap":[]},
			"nodes":[{"hostname":"c","ports":{"direct":3}}]}`, []string{"a:1", "b:2"}},
		{"serverList not an array", `{"nodeLocator":"ketama","vBucketServerMap":{"serverList":"x"},
			"nodes":[{"hostname":"c","ports":{"direct":3}}]}`, []string{"c:3"}},
		{"$HOST", `{"nodeLocator":"ketama","nodes":[{"hostname":"$HOST:8091","ports":{"direct":12000}}]}`, []string{"localhost:12000"}},
	} {
		m, err := ParseBucket([]byte(tc.cfg))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var got []string
		for _, s := range m.Servers {
			got = append(got, s.String())
		}
		if !slices.Equal(got, tc.want) || m.Dist != KetamaWeighted {
			t.Errorf("%s: servers %v (%s), want %v", tc.name, got, m.Dist, tc.want)
		}
	}
}

// TestKetamaRoutesLikeHostList: a ketama bucket routes exactly as the
// -z host list moxi would have handed libmemcached.
func TestKetamaRoutesLikeHostList(t *testing.T) {
	m := libvbucketConfig(t, "ketama-ordered-eight-nodes")
	list, err := NewServerListMap(m.Servers, KetamaWeighted)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range benchKeys() {
		if a, b := m.Locate(k), list.Locate(k); a != b {
			t.Fatalf("Locate(%q): bucket %d, host list %d", k, a, b)
		}
	}
}
