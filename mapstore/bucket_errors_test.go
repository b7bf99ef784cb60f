package mapstore

import (
	"errors"
	"strings"
	"testing"
)

// TestParseBucketErrors: each libvbucket rejection, with its exact text,
// and the checks moxi adds on top.
func TestParseBucketErrors(t *testing.T) {
	const sl = `"serverList":["a:1","b:2"]`
	for _, tc := range []struct {
		name, cfg, want string
	}{
		{"not json", `{"numReplicas":`, "Failed to parse data. Invalid JSON?"},
		{"garbage", `hello`, "Failed to parse data. Invalid JSON?"},
		{"empty", " \n\n\n\n ", "invalid, empty config"},
		{"not an object", `[1,2]`, "Expected number <= 4 for numReplicas"},
		{"nodeLocator type", `{"nodeLocator":1}`, "Expected string for nodeLocator"},
		{"nodeLocator null", `{"nodeLocator":null}`, "Expected string for nodeLocator"},
		{"nodeLocator unknown", `{"nodeLocator":"crc"}`, `mapstore: unsupported nodeLocator "crc"`},
		{"numReplicas missing", `{` + sl + `}`, "Expected number <= 4 for numReplicas"},
		{"numReplicas 5", `{"numReplicas":5,` + sl + `}`, "Expected number <= 4 for numReplicas"},
		{"numReplicas negative", `{"numReplicas":-1,` + sl + `}`, "Expected number <= 4 for numReplicas"},
		{"numReplicas string", `{"numReplicas":"1",` + sl + `}`, "Expected number <= 4 for numReplicas"},
		{"serverList missing", `{"numReplicas":0}`, "Expected array for serverList"},
		{"serverList object", `{"numReplicas":0,"serverList":{}}`, "Expected array for serverList"},
		{"serverList empty", `{"numReplicas":0,"serverList":[]}`, "Empty serverList"},
		{"serverList number", `{"numReplicas":0,"serverList":["a:1",2]}`, "Expected array of strings for serverList"},
		{"nodes object", `{"numReplicas":0,` + sl + `,"nodes":{}}`, "Expected array for nodes"},
		{"nodes item", `{"numReplicas":0,` + sl + `,"nodes":[1]}`, "Expected json object for nodes array item"},
		{"node hostname", `{"numReplicas":0,` + sl + `,"nodes":[{"ports":{"direct":1}}]}`, "Expected string for node's hostname"},
		{"node ports", `{"numReplicas":0,` + sl + `,"nodes":[{"hostname":"a"}]}`, "Expected json object for node's ports"},
		{"node direct", `{"numReplicas":0,` + sl + `,"nodes":[{"hostname":"a","ports":{"direct":"1"}}]}`, "Expected number for node's direct port"},
		{"vBucketMap missing", `{"numReplicas":0,` + sl + `}`, "Expected array for vBucketMap"},
		{"vBucketMap object", `{"numReplicas":0,` + sl + `,"vBucketMap":{}}`, "Expected array for vBucketMap"},
		{"vBucketMap empty", `{"numReplicas":0,` + sl + `,"vBucketMap":[]}`, "No vBuckets available; service maybe still initializing"},
		{"vBucketMap 3", `{"numReplicas":0,` + sl + `,"vBucketMap":[[0],[1],[0]]}`, "Number of vBuckets must be a power of two > 0 and <= 65536"},
		{"count before rows", `{"numReplicas":0,` + sl + `,"vBucketMap":[[0],"x",[0]]}`, "Number of vBuckets must be a power of two > 0 and <= 65536"},
		{"row not array", `{"numReplicas":0,` + sl + `,"vBucketMap":[[0],1]}`, "Expected array of arrays each with numReplicas + 1 ints for vBucketMap"},
		{"row too long", `{"numReplicas":0,` + sl + `,"vBucketMap":[[0],[1,0]]}`, "Expected array of arrays each with numReplicas + 1 ints for vBucketMap"},
		{"row size before cells", `{"numReplicas":1,` + sl + `,"vBucketMap":[["x"],[1,0]]}`, "Expected array of arrays each with numReplicas + 1 ints for vBucketMap"},
		{"server id too big", `{"numReplicas":0,` + sl + `,"vBucketMap":[[0],[2]]}`, "Server ID must be >= -1 and < num_servers"},
		{"server id -2", `{"numReplicas":0,` + sl + `,"vBucketMap":[[0],[-2]]}`, "Server ID must be >= -1 and < num_servers"},
		{"server id string", `{"numReplicas":0,` + sl + `,"vBucketMap":[[0],["1"]]}`, "Server ID must be >= -1 and < num_servers"},
		{"server id fraction", `{"numReplicas":0,` + sl + `,"vBucketMap":[[0],[0.5]]}`, "Server ID must be >= -1 and < num_servers"},
		{"forward type", `{"numReplicas":0,` + sl + `,"vBucketMap":[[0],[1]],"vBucketMapForward":{}}`, "Expected array for vBucketMapForward"},
		{"forward null", `{"numReplicas":0,` + sl + `,"vBucketMap":[[0],[1]],"vBucketMapForward":null}`, "Expected array for vBucketMapForward"},
		{"forward short", `{"numReplicas":0,` + sl + `,"vBucketMap":[[0],[1]],"vBucketMapForward":[[1]]}`, "Expected array of arrays each with numReplicas + 1 ints for vBucketMap"},
		{"forward server id", `{"numReplicas":0,` + sl + `,"vBucketMap":[[0],[1]],"vBucketMapForward":[[1],[7]]}`, "Server ID must be >= -1 and < num_servers"},
		{"server without port", `{"numReplicas":0,"serverList":["a:1","b"],"vBucketMap":[[0]]}`, `mapstore: serverList entry 1 "b": missing port`},
		{"server port 0", `{"numReplicas":0,"serverList":["a:0"],"vBucketMap":[[0]]}`, `mapstore: serverList entry 0 "a:0": port 0`},
		{"server bare ipv6", `{"numReplicas":0,"serverList":["::1:11210"],"vBucketMap":[[0]]}`, `mapstore: serverList entry 0 "::1:11210": ipv6 address must be in brackets`},
		{"ketama no nodes", `{"nodeLocator":"ketama"}`, "Expected array for nodes"},
		{"ketama empty", `{"nodeLocator":"ketama","nodes":[]}`, "Empty serverList"},
		{"ketama all unhealthy", `{"nodeLocator":"ketama","nodes":[{"status":"unhealthy","hostname":"a","ports":{"direct":1}}]}`, "Empty serverList"},
		{"ketama item", `{"nodeLocator":"ketama","nodes":[1]}`, "Expected object for nodes array item"},
		{"ketama direct", `{"nodeLocator":"ketama","nodes":[{"hostname":"a","ports":{}}]}`, "Expected number for node's direct port"},
		{"ketama direct 0", `{"nodeLocator":"ketama","nodes":[{"hostname":"a","ports":{"direct":0}}]}`, `mapstore: node "a": bad host or direct port 0`},
		{"ketama serverList entry", `{"nodeLocator":"ketama","vBucketServerMap":{"serverList":["a"]}}`, `mapstore: serverList entry "a": missing port`},
	} {
		m, err := ParseBucket([]byte(tc.cfg))
		if err == nil {
			t.Errorf("%s: parsed (%d servers), want error %q", tc.name, len(m.Servers), tc.want)
			continue
		}
		if got := err.Error(); got != tc.want {
			t.Errorf("%s: error %q, want %q", tc.name, got, tc.want)
		}
		if ce := ConfigError(tc.want); !strings.HasPrefix(tc.want, "mapstore: ") && !errors.Is(err, ce) {
			t.Errorf("%s: %v is not errors.Is ConfigError(%q)", tc.name, err, tc.want)
		}
	}
}

// TestParseBucketLenient: what libvbucket (cJSON) accepts, so do we.
func TestParseBucketLenient(t *testing.T) {
	for _, tc := range []struct{ name, cfg string }{
		{"trailing bytes", `{"numReplicas":0,"serverList":["a:1"],"vBucketMap":[[0]]} trailing garbage`},
		{"case-insensitive keys", `{"NUMREPLICAS":0,"ServerList":["a:1"],"vbucketmap":[[0]]}`},
		{"integral float", `{"numReplicas":1.0,"serverList":["a:1","b:2"],"vBucketMap":[[0,1e0]]}`},
		{"vBucketServerMap not an object", `{"vBucketServerMap":7,"numReplicas":0,"serverList":["a:1"],"vBucketMap":[[-1]]}`},
		{"forward longer", `{"numReplicas":0,"serverList":["a:1"],"vBucketMap":[[0]],"vBucketMapForward":[[0],[0]]}`},
		{"nodeLocator vbucket", `{"nodeLocator":"vbucket","vBucketServerMap":{"numReplicas":0,"serverList":["a:1"],"vBucketMap":[[0]]}}`},
	} {
		m, err := ParseBucket([]byte(tc.cfg))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !m.IsVBucket() || m.Servers[0] != (Server{Host: "a", Port: 1}) {
			t.Errorf("%s: IsVBucket %v servers %v", tc.name, m.IsVBucket(), m.Servers)
		}
	}
	m, err := ParseBucket([]byte(" \n" + `{"numReplicas":0,"serverList":["a:1"],"vBucketMap":[[0]]}  xyz`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Source != `{"numReplicas":0,"serverList":["a:1"],"vBucketMap":[[0]]}` {
		t.Errorf("Source %q: want the first JSON value only", m.Source)
	}
}
