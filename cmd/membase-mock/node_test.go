package main

import (
	"slices"
	"testing"

	"github.com/moxifleet/moxi/internal/binproto"
)

// otherThan returns a serverList entry other than addr.
func otherThan(servers []string, addr string) string {
	for _, s := range servers {
		if s != addr {
			return s
		}
	}
	return ""
}

// TestNotMyVBucket sends a key's requests with its vbucket id to the
// node the map names, which serves them, and to another node, which
// answers NOT_MY_VBUCKET with the request's opcode and opaque.
func TestNotMyVBucket(t *testing.T) {
	m := startMock(t, "-nodes", "2", "-vbuckets", "16")
	cfg := fetchBucket(t, m, "default")
	const key = "hello"
	vb := uint16(vbucketOf([]byte(key), 16))
	owner := cfg.masterOf(key)
	stranger := otherThan(cfg.VBucketServerMap.ServerList, owner)

	own, foreign := dialBin(t, owner), dialBin(t, stranger)
	if p := own.do(binproto.OpSet, vb, 1, setExtras(), key, "world"); p.Status() != binproto.StatusOK {
		t.Fatalf("set on the owner: status %#x", uint16(p.Status()))
	}
	for _, op := range []binproto.Opcode{binproto.OpGetK, binproto.OpSet} {
		var extras []byte
		if op == binproto.OpSet {
			extras = setExtras()
		}
		p := foreign.do(op, vb, 0xdeadbeef, extras, key, "")
		if p.Status() != binproto.StatusNotMyVBucket || p.Opcode != op || p.Opaque != 0xdeadbeef {
			t.Errorf("op %#x on a non-owner: status %#x opcode %#x opaque %#x, want 0x7, the same opcode and 0xdeadbeef",
				uint8(op), uint16(p.Status()), uint8(p.Opcode), p.Opaque)
		}
	}
	p := own.do(binproto.OpGetK, vb, 7, nil, key, "")
	if p.Status() != binproto.StatusOK || string(p.Value) != "world" || string(p.Key) != key || p.Opaque != 7 {
		t.Fatalf("getk on the owner: status %#x key %q value %q", uint16(p.Status()), p.Key, p.Value)
	}
	// The same key under a vbucket the owner does not have is refused too:
	// the check is on the header's vbucket, as in membase.
	foreignVB := slices.IndexFunc(cfg.VBucketServerMap.VBucketMap, func(row []int) bool {
		return cfg.VBucketServerMap.ServerList[row[0]] != owner
	})
	if p := own.do(binproto.OpGetK, uint16(foreignVB), 8, nil, key, ""); p.Status() != binproto.StatusNotMyVBucket {
		t.Fatalf("getk with a foreign vbucket id: status %#x", uint16(p.Status()))
	}
	if st := mockStats(t, m); st.NotMyVBucket != 3 {
		t.Fatalf("not_my_vbucket counter %d, want 3", st.NotMyVBucket)
	}
}

// TestDataNodeSASL logs in to a password-protected bucket with PLAIN, as
// moxi does on each new connection; the data lands in that bucket, not
// in the default one unauthenticated connections use.
func TestDataNodeSASL(t *testing.T) {
	m := startMock(t, "-nodes", "1", "-vbuckets", "1", "-buckets", "default,secure:pw")
	addr := fetchBucket(t, m, "default").VBucketServerMap.ServerList[0]

	bad := dialBin(t, addr)
	if p := bad.do(binproto.OpSASLAuth, 0, 1, nil, "PLAIN", "\x00secure\x00nope"); p.Status() != binproto.StatusAuthError {
		t.Fatalf("wrong password: status %#x", uint16(p.Status()))
	}
	sec := dialBin(t, addr)
	if p := sec.do(binproto.OpSASLListMechs, 0, 1, nil, "", ""); string(p.Value) != "PLAIN" {
		t.Fatalf("mechanisms %q", p.Value)
	}
	if p := sec.do(binproto.OpSASLAuth, 0, 2, nil, "PLAIN", "\x00secure\x00pw"); p.Status() != binproto.StatusOK {
		t.Fatalf("auth: status %#x %q", uint16(p.Status()), p.Value)
	}
	if p := sec.do(binproto.OpSet, 0, 3, setExtras(), "k", "in-secure"); p.Status() != binproto.StatusOK {
		t.Fatalf("set in secure: %#x", uint16(p.Status()))
	}
	if p := sec.do(binproto.OpGet, 0, 4, nil, "k", ""); string(p.Value) != "in-secure" {
		t.Fatalf("get in secure: %#x %q", uint16(p.Status()), p.Value)
	}
	if p := dialBin(t, addr).do(binproto.OpGet, 0, 5, nil, "k", ""); p.Status() != binproto.StatusKeyNotFound {
		t.Fatalf("default bucket sees secure's key: %#x %q", uint16(p.Status()), p.Value)
	}
}
