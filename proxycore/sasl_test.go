package proxycore

import (
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/binproto"
	"github.com/moxifleet/moxi/internal/proxytest"
	"github.com/moxifleet/moxi/mapstore"
)

func plain(usr, pwd string) string { return "\x00" + usr + "\x00" + pwd }

// saslStat reads one "stats" value from a SASL-only memcached, which
// speaks binary only and wants a login first.
func saslStat(t *testing.T, addr, usr, pwd, name string) string {
	t.Helper()
	c := dialBin(t, addr)
	c.send(binReq(binproto.OpSASLAuth, "PLAIN", plain(usr, pwd), nil, 1), binReq(binproto.OpStat, "", "", nil, 2))
	expectStatus(t, c.recv(), binproto.OpSASLAuth, binproto.StatusOK, 1)
	v := ""
	for r := c.recv(); len(r.Key) > 0; r = c.recv() {
		if string(r.Key) == name {
			v = string(r.Value)
		}
	}
	return v
}

// TestSASLBucketSelection: with default_bucket_name set and no such
// bucket, clients start on the NULL bucket; a binary SASL PLAIN login
// picks the bucket whose user and password match, and the proxy logs in
// to that bucket's SASL-only memcached with the same credentials.
func TestSASLBucketSelection(t *testing.T) {
	m0 := proxytest.StartMemcachedSASL(t, pkgName, "bucket0", "passwordGood0")
	m1 := proxytest.StartMemcachedSASL(t, pkgName, "bucket1", "passwordGood1")
	beh := func(usr, pwd string) Behavior {
		b := DefaultBehavior()
		b.Usr, b.Pwd = usr, pwd
		// This test is about which bucket a client lands in, not about
		// moxi's 100 ms auth_timeout, which a loaded CI machine's SASL
		// handshake has exceeded (the first SET then failed).
		b.AuthTimeout = 5 * time.Second
		return b
	}
	p := startProxyConfig(t, Config{NamedDefaultBucket: true, DefaultBucketName: ""},
		Bucket{Name: "bucket0", Behavior: beh("bucket0", "passwordGood0"), Maps: staticMap(t, m0.Addr)},
		Bucket{Name: "bucket1", Behavior: beh("bucket1", "passwordGood1"), Maps: staticMap(t, m1.Addr)})

	a := dial(t, p.addr)
	a.send("get k\r\nset k 0 0 1\r\nx\r\nversion\r\n")
	a.expect("END\r\nSERVER_ERROR unauthorized, null bucket\r\nVERSION test\r\n")

	c := dialBin(t, p.addr)
	for i := uint32(1); i <= 2; i++ {
		c.send(binReq(binproto.OpGetK, "k", "", nil, i))
		r := c.recv()
		expectStatus(t, r, binproto.OpGetK, binproto.StatusAuthError, i)
		if string(r.Value) != "Auth failure" {
			t.Fatalf("null bucket body %q", r.Value)
		}
	}
	for i, bad := range []string{plain("bucket0", "wrong"), plain("", "passwordGood0"), plain("bucket0", ""), plain("userBad0", "passwordGood0")} {
		c.send(binReq(binproto.OpSASLAuth, "PLAIN", bad, nil, uint32(10+i)))
		expectStatus(t, c.recv(), binproto.OpSASLAuth, binproto.StatusAuthError, uint32(10+i))
	}
	c.send(binReq(binproto.OpSASLAuth, "PLAIN", plain("bucket0", "passwordGood0"), nil, 20))
	ok := c.recv()
	expectStatus(t, ok, binproto.OpSASLAuth, binproto.StatusOK, 20)
	if string(ok.Value) != "Authenticated" {
		t.Fatalf("auth body %q", ok.Value)
	}
	c.send(binReq(binproto.OpSet, "in0", "zero", setExtras(0, 0), 21))
	expectStatus(t, c.recv(), binproto.OpSet, binproto.StatusOK, 21)
	c.send(binReq(binproto.OpSASLAuth, "PLAIN", plain("bucket1", "passwordGood1"), nil, 22))
	expectStatus(t, c.recv(), binproto.OpSASLAuth, binproto.StatusOK, 22)
	c.send(binReq(binproto.OpSet, "in1", "one", setExtras(0, 0), 23), binReq(binproto.OpGetK, "in0", "", nil, 24))
	expectStatus(t, c.recv(), binproto.OpSet, binproto.StatusOK, 23)
	expectStatus(t, c.recv(), binproto.OpGetK, binproto.StatusKeyNotFound, 24)

	if got := saslStat(t, m0.Addr, "bucket0", "passwordGood0", "curr_items"); got != "1" {
		t.Errorf("bucket0's server holds %s items, want 1", got)
	}
	if got := saslStat(t, m1.Addr, "bucket1", "passwordGood1", "curr_items"); got != "1" {
		t.Errorf("bucket1's server holds %s items, want 1", got)
	}
}

// TestDownstreamAuthOncePerConnection: -Z usr/pwd log every new server
// connection in, once; requests on a reused connection send no auth. A
// wrong password fails the requests and counts toward blacklisting.
func TestDownstreamAuthOncePerConnection(t *testing.T) {
	m := proxytest.StartMemcachedSASL(t, pkgName, "TheUser", "ThePassword")
	p := startProxy(t, []string{m.Addr}, func(b *Behavior) {
		b.DownstreamProtocol, b.Usr, b.Pwd, b.DownstreamConnMax = "binary", "TheUser", "ThePassword", 1
	})
	c := dial(t, p.addr)
	for i := 0; i < 50; i++ {
		c.send("set a 0 0 1\r\nx\r\nget a\r\n")
		c.expect("STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n")
	}
	b := dialBin(t, p.addr)
	b.send(binReq(binproto.OpGetK, "a", "", nil, 1))
	expectStatus(t, b.recv(), binproto.OpGetK, binproto.StatusOK, 1)
	if got := saslStat(t, m.Addr, "TheUser", "ThePassword", "auth_cmds"); got != "2" {
		t.Fatalf("server saw %s auth commands, want 2 (the proxy's one connection, reused, and this check's)", got)
	}
	if got := onlyBucket(p).stats.get(totDownstreamAuth); got != 1 {
		t.Fatalf("tot_downstream_auth = %d, want 1", got)
	}

	bad := startProxy(t, []string{m.Addr}, func(b *Behavior) {
		b.DownstreamProtocol, b.Usr, b.Pwd = "binary", "TheUser", "nope"
	})
	c = dial(t, bad.addr)
	c.send("set a 0 0 1\r\nx\r\n")
	c.expect("SERVER_ERROR proxy write to downstream 127.0.0.1\r\n")
	if got := onlyBucket(bad).stats.get(totDownstreamAuthFailed); got != 1 {
		t.Fatalf("tot_downstream_auth_failed = %d, want 1", got)
	}
}

// TestDownstreamAuthFromBucketConfig: a bucket config (as REST sends it)
// names the login for its servers, its name and saslPassword, with no
// -Z usr/pwd given; a SASL-only memcached then serves the proxy.
func TestDownstreamAuthFromBucketConfig(t *testing.T) {
	m := proxytest.StartMemcachedSASL(t, pkgName, "bucket0", "passwordGood0")
	cfg := `{"name":"bucket0","saslPassword":"passwordGood0","nodeLocator":"vbucket","vBucketServerMap":` +
		`{"hashAlgorithm":"CRC","numReplicas":0,"serverList":["` + m.Addr + `"],"vBucketMap":[[0],[0]]}}`
	vm, err := mapstore.ParseBucket([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	p := startProxyConfig(t, Config{}, Bucket{Name: "bucket0", Behavior: DefaultBehavior(), Maps: StaticMap{M: vm}})
	c := dial(t, p.addr)
	c.send("set k 0 0 1\r\nx\r\nget k\r\n")
	c.expect("STORED\r\nVALUE k 0 1\r\nx\r\nEND\r\n")
	if got := onlyBucket(p).stats.get(totDownstreamAuth); got == 0 {
		t.Fatal("tot_downstream_auth = 0: the proxy did not log in with the bucket's credentials")
	}
}
