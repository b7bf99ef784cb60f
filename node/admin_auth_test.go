package node

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moxifleet/moxi/internal/tlsconf"
)

func TestAdminToken(t *testing.T) {
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokFile, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := &Node{own: FleetOptions{Admin: "0.0.0.0:8290", AdminTokenFile: tokFile}}
	if err := n.loadAdminAccess(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, p := range []string{"/status", "/health", "/metrics", "/"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	}
	srv := httptest.NewServer(n.admin.guard(mux))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		path, auth string
		code       int
	}{
		{"/status", "", 401}, {"/", "", 401}, {"/status", "Bearer wrong", 401}, {"/status", "s3cret-token", 401},
		{"/status", "Bearer s3cret-token", 200}, {"/", "Bearer s3cret-token", 200},
		{"/health", "", 200}, {"/metrics", "", 200},
	} {
		req, _ := http.NewRequest("GET", srv.URL+tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("GET %s with %q: %d, want %d", tc.path, tc.auth, resp.StatusCode, tc.code)
		}
	}
	// A peer fetch carries the token.
	resp, err := n.peerClient().Get(srv.URL + "/status")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("peer client: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestAdminAccessRefusals(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		own  FleetOptions
		want string // "" for no error
	}{
		{FleetOptions{Admin: "0.0.0.0:8290"}, "admin_listen=0.0.0.0:8290 is not a loopback address"},
		{FleetOptions{Admin: ":8290"}, "is not a loopback address"},
		{FleetOptions{Admin: "10.1.2.3:8290"}, "is not a loopback address"},
		{FleetOptions{Admin: "127.0.0.5:8290"}, ""},
		{FleetOptions{Admin: "[::1]:8290"}, ""},
		{FleetOptions{Admin: "localhost:8290"}, ""},
		{FleetOptions{}, ""},
		{FleetOptions{Admin: "0.0.0.0:8290", AdminTokenFile: empty}, "admin_token_file " + empty + ": the file is empty"},
		{FleetOptions{Admin: "0.0.0.0:8290", AdminTokenFile: filepath.Join(dir, "none")}, "admin_token_file"},
		{FleetOptions{Admin: "0.0.0.0:8290", AdminTLS: tlsconf.Files{Cert: filepath.Join(dir, "cert.pem")}}, "admin_tls_cert/admin_tls_key/admin_tls_ca"},
	} {
		n := &Node{own: tc.own}
		err := n.loadAdminAccess()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.own, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n")):
			t.Errorf("%+v: %v, want one line with %q", tc.own, err, tc.want)
		}
	}
}
