package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moxifleet/moxi/cluster"
	"github.com/moxifleet/moxi/internal/tlsconf"
	"github.com/moxifleet/moxi/node"
)

// TestKeygen: one line of base64 holding 32 random bytes, new each time;
// arguments are refused.
func TestKeygen(t *testing.T) {
	seen := map[string]bool{}
	for range 2 {
		code, out, errOut := runArgs(t, "keygen")
		if code != exitOK || errOut != "" {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		line := strings.TrimSuffix(out, "\n")
		key, err := base64.StdEncoding.DecodeString(line)
		if err != nil || len(key) != 32 || strings.Contains(line, "\n") {
			t.Fatalf("keygen printed %q: %d bytes, %v; want one line of 32 bytes in base64", out, len(key), err)
		}
		if seen[line] {
			t.Fatalf("keygen printed %q twice", line)
		}
		seen[line] = true
	}
	if code, _, errOut := runArgs(t, "keygen", "32"); code != exitConfig || strings.Count(errOut, "\n") != 1 ||
		!strings.HasPrefix(errOut, "moxi: keygen:") {
		t.Errorf("keygen with an argument: exit %d, stderr %q", code, errOut)
	}
}

// TestTLSInit: a CA and a certificate per name that mutual TLS accepts,
// said not to be for production; an existing CA, names that are not
// file names or clash with the CA's, and a missing name are refused in
// one line.
func TestTLSInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	code, out, errOut := runArgs(t, "tls-init", dir, "n1", "127.0.0.3")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "NOT FOR PRODUCTION") || !strings.Contains(out, "cluster_tls_ca="+filepath.Join(dir, "ca.pem")) {
		t.Errorf("output does not warn or show the -Z keys:\n%s", out)
	}
	for _, name := range []string{"n1", "127.0.0.3"} {
		f := tlsconf.Files{Cert: filepath.Join(dir, name+".pem"), Key: filepath.Join(dir, name+"-key.pem"), CA: filepath.Join(dir, "ca.pem")}
		if _, _, err := tlsconf.Mutual(f); err != nil {
			t.Errorf("%s's certificate: %v", name, err)
		}
	}
	for _, args := range [][]string{
		{"tls-init", dir, "n2"},
		{"tls-init", t.TempDir(), "../escape"},
		{"tls-init", t.TempDir(), "ca"},
		{"tls-init", t.TempDir(), "n1", "n1"},
		{"tls-init", t.TempDir()},
	} {
		code, _, errOut := runArgs(t, args...)
		if code != exitConfig || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "moxi: tls-init:") {
			t.Errorf("%q: exit %d, stderr %q; want one line", args, code, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "n2.pem")); err == nil {
		t.Error("tls-init over an existing CA wrote a certificate")
	}
}

// TestStatusOverClusterTLS: moxi status reaches a node that answers only
// a certificate of its CA with -ca, -cert and -key, over https by default.
func TestStatusOverClusterTLS(t *testing.T) {
	dir := t.TempDir()
	if err := tlsconf.Init(dir, []string{"n1", "op"}); err != nil {
		t.Fatal(err)
	}
	pem := func(name string) string { return filepath.Join(dir, name) }
	srvTLS, err := tlsconf.Server(tlsconf.Files{Cert: pem("n1.pem"), Key: pem("n1-key.pem"), CA: pem("ca.pem"), Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(node.Status{Status: cluster.Status{Node: "n1:7946", RaftState: "Follower"}})
	}))
	srv.TLS = srvTLS
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake refused below
	srv.StartTLS()
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "https://")

	code, out, errOut := runArgs(t, "status", "-ca", pem("ca.pem"), "-cert", pem("op.pem"), "-key", pem("op-key.pem"), addr)
	if code != exitOK || !strings.Contains(out, "node n1:7946") {
		t.Fatalf("with the fleet's certificate: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, _ := runArgs(t, "status", addr); code != exitConfig {
		t.Errorf("without a certificate: exit %d, want %d", code, exitConfig)
	}
	if code, _, errOut := runArgs(t, "status", "-ca", pem("ca.pem"), addr); code != exitConfig || !strings.Contains(errOut, "go together") {
		t.Errorf("-ca alone: exit %d, stderr %q", code, errOut)
	}
}
