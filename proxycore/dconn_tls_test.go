package proxycore

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/moxifleet/moxi/internal/proxytest"
	"github.com/moxifleet/moxi/internal/tlsconf"
)

// tlsMemcached starts Debian's memcached with TLS on (-Z) and a
// certificate from a fresh tls-init CA, returning its address and the CA.
func tlsMemcached(t *testing.T) (addr, ca string) {
	t.Helper()
	dir := t.TempDir()
	if err := tlsconf.Init(dir, []string{"memcached"}); err != nil {
		t.Fatal(err)
	}
	m := proxytest.StartMemcached(t, pkgName, "-Z", "-o", "ssl_chain_cert="+filepath.Join(dir, "memcached.pem")+
		",ssl_key="+filepath.Join(dir, "memcached-key.pem"))
	return m.Addr, filepath.Join(dir, "ca.pem")
}

// TestDownstreamTLS: with downstream_tls the proxy speaks TLS to a
// memcached that requires it, in both protocols; with a CA that did not
// sign the server's certificate it refuses the server.
func TestDownstreamTLS(t *testing.T) {
	addr, ca := tlsMemcached(t)
	bothProtocols(t, func(t *testing.T, proto func(*Behavior)) {
		cfg, err := tlsconf.Client(tlsconf.Files{CA: ca})
		if err != nil {
			t.Fatal(err)
		}
		p := startProxy(t, []string{addr}, func(b *Behavior) { proto(b); b.DownstreamTLS = cfg })
		c := dial(t, p.addr)
		c.send("set tlskey 5 0 6\r\nsecret\r\n")
		c.expect("STORED\r\n")
		c.send("get tlskey\r\n")
		c.expect("VALUE tlskey 5 6\r\nsecret\r\nEND\r\n")
	})
	otherDir := t.TempDir()
	if err := tlsconf.Init(otherDir, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	wrong, err := tlsconf.Client(tlsconf.Files{CA: filepath.Join(otherDir, "ca.pem")})
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, []string{addr}, func(b *Behavior) { b.DownstreamTLS = wrong })
	c := dial(t, p.addr)
	c.send("get tlskey\r\n")
	if l := c.line(); !strings.HasPrefix(l, "END") && !strings.HasPrefix(l, "SERVER_ERROR") {
		t.Fatalf("a server signed by another CA answered: %q", l)
	}
	if onlyBucket(p).stats.get(totDownstreamConnectFailed) == 0 {
		t.Fatal("the handshake with a server of another CA did not fail")
	}
}
