package node

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moxifleet/moxi/cluster"
	"github.com/moxifleet/moxi/internal/tlsconf"
)

// tlsDir makes a CA with a certificate per name in a new directory.
func tlsDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := tlsconf.Init(dir, names); err != nil {
		t.Fatal(err)
	}
	return dir
}

func tlsKeysOf(dir, name string) string {
	return "cluster_tls_cert=" + filepath.Join(dir, name+".pem") + ",cluster_tls_key=" + filepath.Join(dir, name+"-key.pem") +
		",cluster_tls_ca=" + filepath.Join(dir, "ca.pem")
}

func securityOf(z string) (fleetSecurity, error) {
	f, _, err := splitFleetKeys(z)
	if err != nil {
		return fleetSecurity{}, err
	}
	return f.security()
}

// TestFleetSecurityOptions: good keys and files load; each bad one is a
// one-line error naming its -Z key, and never shows a key's value.
func TestFleetSecurityOptions(t *testing.T) {
	key32 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	key16 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 16))
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 20))
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	twoKeys := write("two", "# rotation: new key first\n"+key16+"\n\n"+key32+"\n")
	badLine := write("bad", key32+"\nnot-base64!\n")
	empty := write("empty", "# nothing yet\n")
	certs := tlsDir(t, "n1")

	sec, err := securityOf("cluster_key=" + key32)
	if err != nil || len(sec.keys) != 1 || len(sec.keys[0]) != 32 || sec.mutual != nil {
		t.Errorf("cluster_key: %+v, %v", sec, err)
	}
	sec, err = securityOf("cluster_key_file=" + twoKeys)
	if err != nil || len(sec.keys) != 2 || len(sec.keys[0]) != 16 || len(sec.keys[1]) != 32 {
		t.Errorf("cluster_key_file with two keys: %d keys, %v; want the 16-byte one first", len(sec.keys), err)
	}
	sec, err = securityOf(tlsKeysOf(certs, "n1"))
	if err != nil || sec.mutual == nil || sec.admin == nil || sec.keys != nil {
		t.Errorf("cluster_tls_*: %+v, %v", sec, err)
	}
	for _, tc := range []struct {
		z      string
		want   []string // in the error
		secret string   // never in it
	}{
		{"cluster_key=" + key32[:10] + "!!" + key32[12:], []string{"-Z cluster_key", "base64"}, key32[12:]},
		{"cluster_key=" + short, []string{"-Z cluster_key", "20 bytes", "16, 24 or 32"}, short},
		{"cluster_key=" + key32 + ",cluster_key_file=" + twoKeys, []string{"cluster_key and cluster_key_file"}, key32},
		{"cluster_key_file=" + filepath.Join(dir, "missing"), []string{"-Z cluster_key_file", "missing", "no such file"}, ""},
		{"cluster_key_file=" + badLine, []string{"-Z cluster_key_file", "line 2", "base64"}, key32},
		{"cluster_key_file=" + empty, []string{"-Z cluster_key_file", "no key"}, ""},
		{"cluster_tls_cert=" + filepath.Join(certs, "n1.pem"), []string{"-Z cluster_tls_key", "needed"}, ""},
		{tlsKeysOf(certs, "n1") + ",cluster_tls_ca=" + filepath.Join(dir, "no-ca.pem"), []string{"-Z cluster_tls_ca", "no-ca.pem", "no such file"}, ""},
		{tlsKeysOf(certs, "n1") + ",cluster_tls_key=" + twoKeys, []string{"cluster_tls_cert/cluster_tls_key/cluster_tls_ca"}, ""},
		{"cluster_insecure=maybe", []string{"cluster_insecure"}, ""},
	} {
		_, err := securityOf(tc.z)
		if err == nil {
			t.Errorf("%s: no error", tc.z)
			continue
		}
		msg := err.Error()
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: error %q does not say %q", tc.z, msg, w)
			}
		}
		if strings.Contains(msg, "\n") || tc.secret != "" && strings.Contains(msg, tc.secret) {
			t.Errorf("%s: error %q is not one line, or shows the key", tc.z, msg)
		}
	}
}

// TestCheckExposure: a loopback fleet needs nothing; any other address
// needs both the key and TLS, naming what is missing, unless
// cluster_insecure says so, which makes a warning.
func TestCheckExposure(t *testing.T) {
	keyed := fleetSecurity{keys: [][]byte{make([]byte, 32)}}
	full := fleetSecurity{keys: keyed.keys, mutual: &cluster.TLS{}}
	for _, tc := range []struct {
		bind     string
		insecure bool
		sec      fleetSecurity
		err      []string // in the error; nil: no error
		notErr   string
		warn     bool
	}{
		{bind: "127.0.0.2:7946"},
		{bind: "[::1]:7946"},
		{bind: "0.0.0.0:7946", err: []string{"cluster_bind 0.0.0.0:7946", "not a loopback", "cluster_key", "cluster_tls_cert", "cluster_insecure=1"}},
		{bind: "192.0.2.2:7946", sec: keyed, err: []string{"cluster_tls_cert, cluster_tls_key and cluster_tls_ca"}, notErr: "cluster_key"},
		{bind: "192.0.2.2:7946", sec: full},
		{bind: "192.0.2.2:7946", insecure: true, warn: true},
		{bind: "192.0.2.2:7946", insecure: true, sec: full},
		{bind: "127.0.0.1:7946", insecure: true},
	} {
		f := defaultFleetOptions()
		f.Bind, f.Insecure = tc.bind, tc.insecure
		warn, err := f.checkExposure(tc.sec)
		switch {
		case tc.err == nil && err != nil:
			t.Errorf("%+v: %v", tc, err)
		case tc.err != nil && err == nil:
			t.Errorf("%+v: no error", tc)
		case (warn != "") != tc.warn:
			t.Errorf("%+v: warning %q", tc, warn)
		}
		for _, w := range tc.err {
			if err != nil && !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", tc.bind, err, w)
			}
		}
		if err != nil && tc.notErr != "" && strings.Contains(err.Error(), tc.notErr) {
			t.Errorf("%s: %q names %s, which is set", tc.bind, err, tc.notErr)
		}
	}
}

// TestNewRefusesExposedFleet: through New, a fleet on 0.0.0.0 with no key
// or TLS is refused in one line; with cluster_insecure=1 it is built and
// one warning is logged. The security keys need cluster_bind.
func TestNewRefusesExposedFleet(t *testing.T) {
	opts := DefaultOptions()
	opts.ClusterConfig = "11211=127.0.0.1:11311"
	opts.Behavior = "cluster_bind=0.0.0.0:7946,cluster_data=" + t.TempDir()
	logger, level := testLogger()
	if _, err := New(opts, logger, level); err == nil || !strings.Contains(err.Error(), "cluster_insecure=1") {
		t.Fatalf("New on 0.0.0.0 without key or TLS: %v", err)
	}
	var logs bytes.Buffer
	opts.Behavior += ",cluster_insecure=1"
	if _, err := New(opts, slog.New(slog.NewTextHandler(&logs, nil)), level); err != nil {
		t.Fatalf("New with cluster_insecure=1: %v", err)
	}
	if n := strings.Count(logs.String(), "level=WARN msg=\"cluster_insecure=1"); n != 1 {
		t.Errorf("%d cluster_insecure warnings, want 1:\n%s", n, logs.String())
	}
	opts.Behavior = "cluster_key=" + base64.StdEncoding.EncodeToString(make([]byte, 32))
	if _, err := New(opts, logger, level); err == nil || !strings.Contains(err.Error(), "need -Z cluster_bind") {
		t.Errorf("cluster_key without cluster_bind: %v", err)
	}
}

// TestAdminPeerCert: under cluster TLS the admin server answers /status
// only to a client certificate of the fleet's CA (peerClient has one),
// /health and /metrics to anyone, and a certificate of another CA is
// refused in the handshake.
func TestAdminPeerCert(t *testing.T) {
	ours, theirs := tlsDir(t, "a", "b"), tlsDir(t, "x")
	secOf := func(dir, name string) fleetSecurity {
		t.Helper()
		sec, err := securityOf(tlsKeysOf(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return sec
	}
	withAccess := func(n *Node) *Node {
		t.Helper()
		if err := n.loadAdminAccess(); err != nil {
			t.Fatal(err)
		}
		return n
	}
	a := withAccess(&Node{fleet: &fleet{sec: secOf(ours, "a")}})
	mux := http.NewServeMux()
	for _, p := range []string{"/status", "/health", "/metrics"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	}
	srv := httptest.NewUnstartedServer(a.admin.guard(mux))
	srv.TLS = a.adminTLS()
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	t.Cleanup(srv.Close)

	b := withAccess(&Node{fleet: &fleet{sec: secOf(ours, "b")}})
	anon := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	x := withAccess(&Node{fleet: &fleet{sec: secOf(theirs, "x")}}).peerClient()
	for _, tc := range []struct {
		who    string
		client *http.Client
		path   string
		code   int // 0: the request fails
	}{
		{"a peer", b.peerClient(), "/status", 200},
		{"no certificate", anon, "/status", 403},
		{"no certificate", anon, "/health", 200},
		{"no certificate", anon, "/metrics", 200},
		{"another CA", x, "/status", 0},
	} {
		resp, err := tc.client.Get(srv.URL + tc.path)
		code := 0
		if err == nil {
			code = resp.StatusCode
			resp.Body.Close()
		}
		if code != tc.code {
			t.Errorf("%s GET %s: %d (%v), want %d", tc.who, tc.path, code, err, tc.code)
		}
	}
	if got := b.withAdminScheme("http://127.0.0.2:8290"); got != "https://127.0.0.2:8290" {
		t.Errorf("peer URL under cluster TLS: %s", got)
	}
	if got := (&Node{}).withAdminScheme("http://127.0.0.2:8290"); got != "http://127.0.0.2:8290" {
		t.Errorf("peer URL without cluster TLS: %s", got)
	}
}
