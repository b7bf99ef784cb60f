package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/moxifleet/moxi/internal/binproto"
	"github.com/moxifleet/moxi/internal/tlsconf"
)

// certs writes a tls-init CA and certificates for names into a temp dir.
func certs(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := tlsconf.Init(dir, names); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tlsDial opens a TLS connection to addr trusting dir's CA, presenting
// dir's certificate for name when name is not "".
func tlsDial(t *testing.T, addr, dir, name string) (*tls.Conn, error) {
	t.Helper()
	return tlsDialTrusting(t, addr, dir, dir, name)
}

// tlsZ is the -Z of a proxy serving TLS with dir's "moxi" certificate.
func tlsZ(dir string) string {
	return "tls_cert=" + filepath.Join(dir, "moxi.pem") + ",tls_key=" + filepath.Join(dir, "moxi-key.pem")
}

// TestTLSClients: with -Z tls_cert the proxy port speaks TLS to text,
// meta and binary clients and to gomemcache dialing through TLS; a plain
// client gets nothing it can read as memcached.
func TestTLSClients(t *testing.T) {
	t.Parallel()
	dir := certs(t, "moxi", "client")
	mc := startMemcached(t)
	proxy := startProxy(t, []string{mc.Addr}, "downstream_protocol=binary,"+tlsZ(dir))

	c, err := tlsDial(t, proxy.Addr, dir, "")
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	exchange := func(req, want string) {
		t.Helper()
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(want))
		if _, err := io.ReadFull(r, got); err != nil || string(got) != want {
			t.Fatalf("%q: got %q (%v), want %q", req, got, err, want)
		}
	}
	exchange("set tk 3 0 5\r\nhello\r\n", "STORED\r\n")
	exchange("get tk\r\n", "VALUE tk 3 5\r\nhello\r\nEND\r\n")
	exchange("mg tk v f\r\n", "VA 5 f3\r\nhello\r\n")

	bc, err := tlsDial(t, proxy.Addr, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	if _, err := bc.Write(binReq(binproto.OpGetK, "tk", "", nil, 9)); err != nil {
		t.Fatal(err)
	}
	var p binproto.Packet
	if _, _, err := binproto.ReadResponse(bufio.NewReader(bc), nil, &p); err != nil || p.Status() != binproto.StatusOK ||
		string(p.Value) != "hello" || p.Opaque != 9 {
		t.Fatalf("binary GETK over TLS: %v status %v value %q", err, p.Status(), p.Value)
	}

	gm := memcache.New(proxy.Addr)
	gm.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) { return tlsDial(t, addr, dir, "") }
	if err := gm.Set(&memcache.Item{Key: "gk", Value: []byte("via-gomemcache")}); err != nil {
		t.Fatalf("gomemcache set over TLS: %v", err)
	}
	if it, err := gm.Get("gk"); err != nil || string(it.Value) != "via-gomemcache" {
		t.Fatalf("gomemcache get over TLS: %v", err)
	}

	plain, err := net.DialTimeout("tcp", proxy.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	_ = plain.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = plain.Write([]byte("version\r\n"))
	line, _ := bufio.NewReader(plain).ReadString('\n')
	if strings.HasPrefix(line, "VERSION") {
		t.Fatalf("a plain client was served on the TLS port: %q", line)
	}
}

// TestTLSVerifyAndNotls: with tls_ca and tls_verify=1 a client must show
// a certificate of that CA; a notls: section serves plain next to it.
func TestTLSVerifyAndNotls(t *testing.T) {
	t.Parallel()
	dir, other := certs(t, "moxi", "client"), certs(t, "stranger")
	mc := startMemcached(t)
	plainPort := freePort(t)
	proxy := startMoxi(t, func(port int) []string {
		return []string{"-z", fmt.Sprintf("%d=%s;notls:%d=%s", port, mc.Addr, plainPort, mc.Addr),
			"-Z", "downstream_protocol=ascii," + tlsZ(dir) + ",tls_ca=" + filepath.Join(dir, "ca.pem") + ",tls_verify=1"}
	})
	if c, err := tlsDial(t, proxy.Addr, dir, "client"); err != nil {
		t.Fatalf("a client with the CA's certificate: %v", err)
	} else {
		if err := versionOn(c); err != nil {
			t.Fatalf("a client with the CA's certificate: %v", err)
		}
		c.Close()
	}
	for name, dial := range map[string]func() (*tls.Conn, error){
		"no certificate":           func() (*tls.Conn, error) { return tlsDial(t, proxy.Addr, dir, "") },
		"another CA's certificate": func() (*tls.Conn, error) { return tlsDialTrusting(t, proxy.Addr, dir, other, "stranger") },
	} {
		c, err := dial()
		if err == nil {
			err = versionOn(c) // TLS 1.3 reports the refusal on first use
			c.Close()
		}
		if err == nil {
			t.Errorf("a client with %s was served", name)
		}
	}
	eventually(t, 5*time.Second, func() error {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", plainPort), time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		return versionOn(c)
	})
}

// tlsDialTrusting dials trusting caDir's CA while presenting certDir's
// certificate for name (none when name is "").
func tlsDialTrusting(t *testing.T, addr, caDir, certDir, name string) (*tls.Conn, error) {
	t.Helper()
	files := tlsconf.Files{CA: filepath.Join(caDir, "ca.pem")}
	if name != "" {
		files.Cert, files.Key = filepath.Join(certDir, name+".pem"), filepath.Join(certDir, name+"-key.pem")
	}
	cfg, err := tlsconf.Client(files)
	if err != nil {
		t.Fatal(err)
	}
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: cfg}
	c, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		return nil, err
	}
	tc := c.(*tls.Conn)
	_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
	return tc, nil
}

// TestTLSEndToEnd: a TLS client, moxi, and memcached run with -Z
// (enable-ssl) behind it: downstream_tls with the CA that signed
// memcached's certificate, both protocols to the server.
func TestTLSEndToEnd(t *testing.T) {
	t.Parallel()
	dir := certs(t, "moxi", "memcached")
	mc := startMemcached(t, "-Z", "-o", "ssl_chain_cert="+filepath.Join(dir, "memcached.pem")+
		",ssl_key="+filepath.Join(dir, "memcached-key.pem"))
	for _, proto := range []string{"ascii", "binary"} {
		proxy := startProxy(t, []string{mc.Addr}, "downstream_protocol="+proto+","+tlsZ(dir)+
			",downstream_tls=1,downstream_tls_ca="+filepath.Join(dir, "ca.pem"))
		c, err := tlsDial(t, proxy.Addr, dir, "")
		if err != nil {
			t.Fatal(err)
		}
		rc := &rawConn{t: t, c: c, r: bufio.NewReader(c)}
		rc.expect("set e2e-"+proto+" 0 0 2\r\nok\r\n", "STORED\r\n")
		rc.expect("get e2e-"+proto+"\r\n", "VALUE e2e-"+proto+" 0 2\r\nok\r\nEND\r\n")
		c.Close()
	}
}
