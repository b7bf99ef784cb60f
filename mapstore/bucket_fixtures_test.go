package mapstore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// wantBucket is what a test expects of one parsed bucket.
type wantBucket struct {
	name, user, password string
	hasPassword          bool
	dist                 Distribution
	servers              string // comma-separated Server.String()s
	vbuckets             int
}

// check compares m with w.
func (w wantBucket) check(t *testing.T, where string, m *Map) {
	t.Helper()
	var servers []string
	for _, s := range m.Servers {
		servers = append(servers, s.String())
	}
	got := wantBucket{m.Name, m.User, m.Password, m.HasPassword, m.Dist, strings.Join(servers, ","), m.NumVBuckets()}
	if got != w {
		t.Errorf("%s: got %+v, want %+v", where, got, w)
	}
}

// readMoxiCfg reads a moxi t/*.cfg file, dropping a static "PORT =" prefix.
func readMoxiCfg(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(sharedTestdata(t), "moxi", name))
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.IndexByte(raw, '='); i >= 0 && bytes.IndexByte(raw, '{') > i {
		raw = raw[i+1:]
	}
	return raw
}

// TestMoxiConfigs parses every JSON config of moxi's own tests.
func TestMoxiConfigs(t *testing.T) {
	vb := func(name, user, pw string, hasPw bool, servers string, n int) wantBucket {
		return wantBucket{name, user, pw, hasPw, VBucket, servers, n}
	}
	cases := map[string][]wantBucket{
		"vbucket1.cfg":        {vb("default", "", "", false, "localhost:11311", 4)},
		"vbucket2.cfg":        {vb("default", "", "", false, "localhost:11311,localhost:11312", 2)},
		"moxi_mock.cfg":       {vb("default", "", "", false, "127.0.0.1:11311", 1)},
		"vbucket_rest1.cfg":   {vb("default", "", "", false, "localhost:11311,localhost:11312", 2)},
		"vbucket_rest2.cfg":   {vb("default", "", "", false, "127.0.0.1:11212", 2)},
		"ketama_rest_one.cfg": {{"default", "", "", true, KetamaWeighted, "127.0.0.1:11212", 0}},
		"ketama_rest_mixed.cfg": {
			vb("default", "", "", false, "127.0.0.1:11311", 1),
			{"k", "k", "", false, KetamaWeighted, "127.0.0.1:11311", 0},
			vb("v", "v", "", false, "127.0.0.1:11311", 1),
		},
		"moxi_multitenancy_rest.cfg": {
			vb("bucket0", "bucket0", "passwordGood0", true, "127.0.0.1:11311", 1),
			vb("bucket1", "bucket1", "passwordGood1", true, "127.0.0.1:11311", 1),
		},
		"moxi_multitenancy_rest_default.cfg": {
			vb("default", "", "", true, "127.0.0.1:11311", 1),
			vb("bucket0", "bucket0", "passwordGood0", true, "127.0.0.1:11311", 1),
			vb("bucket1", "bucket1", "passwordGood1", true, "127.0.0.1:11311", 1),
		},
		"rest_mock-default.json": {vb("TheUser", "TheUser", "ThePassword", true, "127.0.0.1:11311", 1)},
	}
	files, err := filepath.Glob(filepath.Join(sharedTestdata(t), "moxi", "*"))
	if err != nil || len(files) != len(cases) {
		t.Fatalf("%d files in testdata/moxi, %d cases (err %v): add the new file here", len(files), len(cases), err)
	}
	for name, want := range cases {
		maps, err := ParseBuckets(readMoxiCfg(t, name))
		if err != nil || len(maps) != len(want) {
			t.Errorf("%s: %d maps, err %v; want %d", name, len(maps), err, len(want))
			continue
		}
		for i, w := range want {
			w.check(t, name, maps[i])
		}
	}
}

// TestMoxiConfigDetails pins rows and node metadata the table cannot.
func TestMoxiConfigDetails(t *testing.T) {
	m, err := ParseBucket(readMoxiCfg(t, "vbucket2.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Master(0) != 0 || m.Replica(0, 0) != 1 || m.Master(1) != 1 || m.Replica(1, 0) != 0 {
		t.Errorf("vbucket2 rows: %d %d / %d %d, want 0 1 / 1 0", m.Master(0), m.Replica(0, 0), m.Master(1), m.Replica(1, 0))
	}
	m, err = ParseBucket(readMoxiCfg(t, "vbucket_rest2.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if n := m.Node(0); n.RESTAuthority != "127.0.0.1" || n.ThisNode {
		t.Errorf("vbucket_rest2 node 0 = %+v, want the node whose host:direct is 127.0.0.1:11212", n)
	}
	if m.Source != strings.TrimSpace(string(readMoxiCfg(t, "vbucket_rest2.cfg"))) {
		t.Errorf("Source is not the config text")
	}
}

// restMessages splits a de-chunked REST stream body the way a client must.
func restMessages(t *testing.T, name string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(sharedTestdata(t), "rest", name))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(name, ".http") { // nc-served HTTP/1.0 replies, LF line ends
		_, body, ok := bytes.Cut(raw, []byte("\n\n"))
		if !ok {
			t.Fatalf("%s: no header end", name)
		}
		raw = body
	}
	return bytes.Split(raw, []byte("\n\n\n\n"))
}

// TestRESTBodies: every message of the stream fixtures parses; the
// remainder after the last delimiter is ErrEmptyConfig (what moxi logs as
// "invalid, empty config"), and a non-JSON reply is ErrInvalidJSON.
func TestRESTBodies(t *testing.T) {
	for _, tc := range []struct {
		file  string
		names [][]string // bucket names per message
		last  error      // the error of the final piece
	}{
		{"bucketsStreamingConfig-default.body", [][]string{{"default"}, {"default"}}, ErrEmptyConfig},
		{"saslBucketsStreaming.body", [][]string{{"default", "bucket0", "bucket1"}, {"default", "k", "v"}}, ErrEmptyConfig},
		{"saslBucketsStreaming-empty-MB-3113.http", [][]string{{}}, ErrEmptyConfig},
		{"bad-response-MB-3575.http", nil, ErrInvalidJSON},
	} {
		msgs := restMessages(t, tc.file)
		if len(msgs) != len(tc.names)+1 {
			t.Fatalf("%s: %d pieces, want %d", tc.file, len(msgs), len(tc.names)+1)
		}
		for i, want := range tc.names {
			maps, err := ParseBuckets(msgs[i])
			var got []string
			for _, m := range maps {
				got = append(got, m.Name)
			}
			if err != nil || maps == nil || !slices.Equal(got, want) {
				t.Errorf("%s message %d: buckets %q (nil %v), err %v; want %q", tc.file, i, got, maps == nil, err, want)
			}
		}
		maps, err := ParseBuckets(msgs[len(msgs)-1])
		if !errors.Is(err, tc.last) || maps != nil {
			t.Errorf("%s last piece: %d maps, err %v; want %v", tc.file, len(maps), err, tc.last)
		}
	}
}

// TestParseBucketsPartial: a bad bucket is reported and skipped; the good
// ones survive, as in moxi.
func TestParseBucketsPartial(t *testing.T) {
	doc := `{"buckets":[
		{"name":"a","vBucketServerMap":{"numReplicas":0,"serverList":["h:1"],"vBucketMap":[[0]]}},
		{"name":"bad","vBucketServerMap":{"numReplicas":0,"serverList":["h:1"],"vBucketMap":[[0],[0],[0]]}},
		7,
		{"vBucketServerMap":{"numReplicas":0,"serverList":["$HOST:2"],"vBucketMap":[[0]]}}]}`
	maps, err := ParseBucketsHost([]byte(doc), "10.1.2.3")
	if len(maps) != 2 || maps[0].Name != "a" || maps[1].Name != "default" || maps[1].Servers[0].String() != "10.1.2.3:2" {
		t.Fatalf("maps %v, want buckets a and default (on 10.1.2.3:2)", maps)
	}
	var be *BucketError
	if !errors.As(err, &be) || be.Index != 1 || be.Name != "bad" || !errors.Is(err, ErrNumVBuckets) {
		t.Fatalf("err %v: want a BucketError for bucket 1 \"bad\" wrapping ErrNumVBuckets", err)
	}
	want := "bucket 1 \"bad\": Number of vBuckets must be a power of two > 0 and <= 65536\n" +
		"bucket 2 \"default\": mapstore: bucket is not a JSON object"
	if err.Error() != want {
		t.Errorf("error text %q, want %q", err, want)
	}
}

// TestHostSubstitution: $HOST in servers, hostnames and couchApiBase.
func TestHostSubstitution(t *testing.T) {
	cfg := []byte(`{"nodes":[{"hostname":"$HOST:8091","couchApiBase":"http://$HOST:8092/b","thisNode":true,"ports":{"direct":11210}}],
		"vBucketServerMap":{"numReplicas":0,"serverList":["$HOST:11210"],"vBucketMap":[[0]]}}`)
	for _, tc := range []struct{ host, server, rest, couch string }{
		{"", "localhost:11210", "localhost:8091", "http://localhost:8092/b"},
		{"db1.example", "db1.example:11210", "db1.example:8091", "http://db1.example:8092/b"},
		{"::1", "[::1]:11210", "[::1]:8091", "http://[::1]:8092/b"},
	} {
		m, err := ParseBucketHost(cfg, tc.host)
		if err != nil {
			t.Fatalf("host %q: %v", tc.host, err)
		}
		n := m.Node(0)
		if m.Servers[0].String() != tc.server || n != (NodeInfo{RESTAuthority: tc.rest, CouchAPIBase: tc.couch, ThisNode: true, Status: n.Status}) {
			t.Errorf("host %q: server %s node %+v, want %s / %s / %s", tc.host, m.Servers[0], n, tc.server, tc.rest, tc.couch)
		}
	}
}
