package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// vbucketRefused are meta commands binary has no field for (t, h, I, N,
// R, me, b's key form...). With a binary downstream moxi sends them over a
// text connection to the same server (proxycore/text_route.go), so the
// differential runs above include them; under a vBucket map text cannot
// carry the vBucket id, and they get a CLIENT_ERROR instead.
var vbucketRefused = []string{
	"mg m v k f s t O123\r\n", "ma cnt D5 v t\r\n", "mg m h v\r\n", "md m I T30\r\n",
	"mg m N30 v\r\n", "mg m R30 v\r\n", "me m\r\n", "ms m 2 I\r\nhi\r\n", "ma cnt N0 q\r\n",
}

// TestDifferentialProxyBinaryDownstream: text and meta commands translated
// to binary for one memcached come back as the bytes memcached itself
// sends for them.
func TestDifferentialProxyBinaryDownstream(t *testing.T) {
	t.Parallel()
	for name, steps := range transcripts {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			direct, behind := startMemcached(t), startMemcached(t)
			compareTranscripts(t, direct.Addr, startBinaryProxy(t, []string{behind.Addr}, "").Addr, steps)
		})
	}
}

// TestDifferentialFourServersBinaryDownstream: as TestDifferentialFourServers,
// with multi-gets, flush_all and the rest translated to binary.
func TestDifferentialFourServersBinaryDownstream(t *testing.T) {
	t.Parallel()
	direct := startMemcached(t)
	proxy := startBinaryProxy(t, addrs(startMemcacheds(t, 4)), "")
	for _, name := range []string{"storage", "meta", "badinput"} {
		t.Run(name, func(t *testing.T) {
			compareTranscripts(t, direct.Addr, proxy.Addr, transcripts[name])
		})
	}
}

// TestBinaryDownstreamRefusesMetaFlags: under a vBucket map, every meta
// command binary cannot carry gets moxi's CLIENT_ERROR naming the flag,
// and the connection keeps working.
func TestBinaryDownstreamRefusesMetaFlags(t *testing.T) {
	t.Parallel()
	ms := startMemcacheds(t, 1)
	js, err := json.Marshal(map[string]any{"hashAlgorithm": "CRC", "numReplicas": 0,
		"serverList": []string{ms[0].Addr}, "vBucketMap": [][]int{{0}, {0}}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "vbucket.cfg")
	proxy := startMoxi(t, func(port int) []string {
		if err := os.WriteFile(file, fmt.Appendf(nil, "%d = %s\n", port, js), 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{"-z", file}
	})
	rc := dial(t, proxy.Addr)
	rc.expect("ms m 2\r\nhi\r\n", "HD\r\n")
	rc.expect("ms cnt 1\r\n5\r\n", "HD\r\n")
	for _, req := range vbucketRefused {
		got := rc.call(req)
		if !strings.HasPrefix(got, "CLIENT_ERROR ") {
			t.Errorf("%q under a vBucket map: got %q, want a CLIENT_ERROR", req, got)
		}
		rc.expect("mn\r\n", "MN\r\n")
	}
}

// TestBinaryDownstreamBase64Keys: with a binary downstream, the key mg
// echoes for k is the item's key, base64 with b or plain, whichever form
// the request used; the value is the item's.
func TestBinaryDownstreamBase64Keys(t *testing.T) {
	t.Parallel()
	rc := dial(t, startBinaryProxy(t, []string{startMemcached(t).Addr}, "").Addr)
	rc.expect("ms m 2\r\nhi\r\n", "HD\r\n")
	rc.expect("ms YjY0 2 b\r\nbb\r\n", "HD\r\n")
	for _, c := range []struct{ req, key, value string }{
		{"mg bQ== b v k\r\n", "m", "hi"},
		{"mg m v k\r\n", "m", "hi"},
		{"mg YjY0 b v k\r\n", "b64", "bb"},
		{"mg b64 v k\r\n", "b64", "bb"},
	} {
		got := rc.call(c.req)
		m := metaKeyReply.FindStringSubmatch(got)
		if m == nil || m[3] != c.value {
			t.Errorf("%q: got %q, want VA with the key and value %q", c.req, got, c.value)
			continue
		}
		key := m[1]
		if m[2] != "" {
			raw, err := base64.StdEncoding.DecodeString(key)
			if err != nil {
				t.Errorf("%q: got %q: key %q with b is not base64: %v", c.req, got, key, err)
				continue
			}
			key = string(raw)
		}
		if key != c.key {
			t.Errorf("%q: got %q: key %q, want %q", c.req, got, key, c.key)
		}
	}
}

// metaKeyReply matches "VA <n> k<key>[ b]\r\n<value>\r\n".
var metaKeyReply = regexp.MustCompile(`^VA \d+ k(\S+)( b)?\r\n(.*)\r\n$`)
