package mapstore

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseBuckets: any input either fails or yields maps whose lookups
// stay in range; malformed JSON never parses.
func FuzzParseBuckets(f *testing.F) {
	for _, dir := range []string{"libvbucket", "moxi"} {
		files, _ := filepath.Glob(filepath.Join(sharedTestdata(f), dir, "*"))
		for _, p := range files {
			if raw, err := os.ReadFile(p); err == nil && len(raw) < 64<<10 {
				f.Add(raw)
			}
		}
	}
	f.Add([]byte(`{"numReplicas":1,"serverList":["a:1","[::1]:2"],"vBucketMap":[[0,-1],[1,0]],"vBucketMapForward":[[1,0],[0,1]]}`))
	f.Add([]byte(`{"buckets":[{"nodeLocator":"ketama","nodes":[{"hostname":"h:1","ports":{"direct":2}}]},{"a":"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		maps, err := ParseBuckets(data)
		var first json.RawMessage
		valid := json.NewDecoder(bytes.NewReader(data)).Decode(&first) == nil
		if len(maps) > 0 && !valid {
			t.Fatalf("parsed invalid JSON %q", data)
		}
		if !valid && err == nil {
			t.Fatalf("no error for invalid JSON %q", data)
		}
		for _, m := range maps {
			checkMapInvariants(t, m)
		}
		if m, err := ParseBucket(data); err == nil {
			checkMapInvariants(t, m)
		}
	})
}

// checkMapInvariants: every lookup names a server or -1.
func checkMapInvariants(t *testing.T, m *Map) {
	t.Helper()
	n := len(m.Servers)
	if n == 0 {
		t.Fatalf("map %q without servers", m.Name)
	}
	for _, k := range []string{"", "a", "hello", "\xff\x00"} {
		if i := m.Locate([]byte(k)); i < -1 || i >= n {
			t.Fatalf("Locate(%q) = %d with %d servers", k, i, n)
		}
	}
	for vb := range min(m.NumVBuckets(), 64) {
		for _, s := range []int{m.Master(uint16(vb)), m.ForwardMaster(uint16(vb)), m.Replica(uint16(vb), 0)} {
			if s < -1 || s >= n {
				t.Fatalf("vb %d names server %d of %d", vb, s, n)
			}
		}
	}
}
