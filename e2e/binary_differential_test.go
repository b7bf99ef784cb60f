package e2e

import (
	"encoding/base64"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// binaryRefused lists, per transcript, the steps with meta flags the
// binary protocol has no field for. moxi refuses them with a CLIENT_ERROR
// naming downstream_protocol=ascii instead of answering, so they are left
// out of the binary differential runs (both sides, so that the rest still
// compares) and checked by TestBinaryDownstreamRefusesMetaFlags instead.
var binaryRefused = map[string][]string{
	// t (remaining TTL) on mg and ma: binary GET and INCREMENT
	// replies carry no expiration time.
	"meta": {"mg m v k f s t O123\r\n", "ma cnt D5 v t\r\n"},
}

// binaryKeyForm lists the steps whose reply depends on whether the item's
// key was stored base64-encoded (ms with b): memcached 1.6.18 echoes k in
// the item's form, not the request's ("mg bQ== b v k" on an item stored as
// "m" gets "km", with no b), and binary replies do not say which form the
// item has. moxi answers in the request's form; they are left out of the
// differential runs and checked by TestBinaryDownstreamBase64Keys.
var binaryKeyForm = map[string][]string{
	"meta": {"mg bQ== b v k\r\n"},
}

// binaryExcluded returns the steps of a transcript left out of the binary
// differential runs.
func binaryExcluded(name string) []string {
	return append(slices.Clone(binaryRefused[name]), binaryKeyForm[name]...)
}

// withoutSteps returns steps minus the requests in excluded. It fails the
// test when an excluded request is not in steps, so that the list cannot
// go stale when a transcript changes.
func withoutSteps(t *testing.T, steps []step, excluded []string) []step {
	t.Helper()
	for _, req := range excluded {
		if !slices.ContainsFunc(steps, func(s step) bool { return s.req == req }) {
			t.Fatalf("excluded step %q is not in the transcript", req)
		}
	}
	return slices.DeleteFunc(slices.Clone(steps), func(s step) bool { return slices.Contains(excluded, s.req) })
}

// TestDifferentialProxyBinaryDownstream: text and meta commands translated
// to binary for one memcached come back as the bytes memcached itself
// sends for them.
func TestDifferentialProxyBinaryDownstream(t *testing.T) {
	t.Parallel()
	for name, steps := range transcripts {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			steps := withoutSteps(t, steps, binaryExcluded(name))
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
	for _, name := range []string{"storage", "badinput"} {
		t.Run(name, func(t *testing.T) {
			compareTranscripts(t, direct.Addr, proxy.Addr, withoutSteps(t, transcripts[name], binaryExcluded(name)))
		})
	}
}

// TestBinaryDownstreamRefusesMetaFlags: every excluded step gets moxi's
// CLIENT_ERROR naming the setting that would carry it, and the connection
// keeps working.
func TestBinaryDownstreamRefusesMetaFlags(t *testing.T) {
	t.Parallel()
	proxy := startBinaryProxy(t, []string{startMemcached(t).Addr}, "")
	rc := dial(t, proxy.Addr)
	rc.expect("ms m 2\r\nhi\r\n", "HD\r\n")
	n := 0
	for name, reqs := range binaryRefused {
		for _, req := range reqs {
			n++
			got := rc.call(req)
			if !strings.HasPrefix(got, "CLIENT_ERROR ") || !strings.Contains(got, "downstream_protocol=ascii") {
				t.Errorf("%s step %q: got %q, want a CLIENT_ERROR naming downstream_protocol=ascii", name, req, got)
			}
			rc.expect("mn\r\n", "MN\r\n")
		}
	}
	if n == 0 {
		t.Skip("no step is excluded from the binary runs")
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
