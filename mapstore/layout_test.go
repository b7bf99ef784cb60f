package mapstore

import "testing"

func TestSameLayout(t *testing.T) {
	const base = `{"name":"b","nodes":[{"hostname":"h1:8091","ports":{"direct":11210},"uptime":"1"}],"vBucketServerMap":{"hashAlgorithm":"CRC","numReplicas":1,"serverList":["h1:11210","h2:11210"],"vBucketMap":[[0,1],[1,0]]}}`
	parse := func(s string) *Map {
		t.Helper()
		ms, err := ParseBucketsHost([]byte(s), "")
		if err != nil || len(ms) != 1 {
			t.Fatalf("parse %s: %v", s, err)
		}
		return ms[0]
	}
	a := parse(base)
	cases := []struct {
		name string
		cfg  string
		same bool
	}{
		{"itself", base, true},
		{"uptime", `{"name":"b","nodes":[{"hostname":"h1:8091","ports":{"direct":11210},"uptime":"77"}],"vBucketServerMap":{"hashAlgorithm":"CRC","numReplicas":1,"serverList":["h1:11210","h2:11210"],"vBucketMap":[[0,1],[1,0]]}}`, true},
		{"a replica", `{"name":"b","nodes":[{"hostname":"h1:8091","ports":{"direct":11210}}],"vBucketServerMap":{"hashAlgorithm":"CRC","numReplicas":1,"serverList":["h1:11210","h2:11210"],"vBucketMap":[[0,-1],[1,0]]}}`, false},
		{"a forward map", `{"name":"b","nodes":[{"hostname":"h1:8091","ports":{"direct":11210}}],"vBucketServerMap":{"hashAlgorithm":"CRC","numReplicas":1,"serverList":["h1:11210","h2:11210"],"vBucketMap":[[0,1],[1,0]],"vBucketMapForward":[[1,0],[1,0]]}}`, false},
		{"server order", `{"name":"b","nodes":[{"hostname":"h1:8091","ports":{"direct":11210}}],"vBucketServerMap":{"hashAlgorithm":"CRC","numReplicas":1,"serverList":["h2:11210","h1:11210"],"vBucketMap":[[1,0],[0,1]]}}`, false},
		{"another bucket", `{"name":"c","nodes":[{"hostname":"h1:8091","ports":{"direct":11210}}],"vBucketServerMap":{"hashAlgorithm":"CRC","numReplicas":1,"serverList":["h1:11210","h2:11210"],"vBucketMap":[[0,1],[1,0]]}}`, false},
		{"a node's REST address", `{"name":"b","nodes":[{"hostname":"h9:8091","ports":{"direct":11210}}],"vBucketServerMap":{"hashAlgorithm":"CRC","numReplicas":1,"serverList":["h1:11210","h2:11210"],"vBucketMap":[[0,1],[1,0]]}}`, false},
		{"a node's health", `{"name":"b","nodes":[{"hostname":"h1:8091","ports":{"direct":11210},"status":"unhealthy"}],"vBucketServerMap":{"hashAlgorithm":"CRC","numReplicas":1,"serverList":["h1:11210","h2:11210"],"vBucketMap":[[0,1],[1,0]]}}`, false},
		{"ketama over the same servers", `{"name":"b","nodeLocator":"ketama","nodes":[{"hostname":"h1:8091","ports":{"direct":11210}}],"vBucketServerMap":{"serverList":["h1:11210","h2:11210"]}}`, false},
	}
	for _, c := range cases {
		b := parse(c.cfg)
		if got := SameLayout(a, b); got != c.same {
			t.Errorf("%s: SameLayout = %v, want %v", c.name, got, c.same)
		}
		if got := SameLayout(b, a); got != c.same {
			t.Errorf("%s (swapped): SameLayout = %v, want %v", c.name, got, c.same)
		}
	}
	if SameLayouts([]*Map{a}, []*Map{a, a}) {
		t.Error("SameLayouts of one bucket and two")
	}
}
