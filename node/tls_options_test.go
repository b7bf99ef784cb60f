package node

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/moxifleet/moxi/internal/tlsconf"
)

func TestSplitTLSKeys(t *testing.T) {
	dir := t.TempDir()
	if err := tlsconf.Init(dir, []string{"moxi"}); err != nil {
		t.Fatal(err)
	}
	cert, key, ca := filepath.Join(dir, "moxi.pem"), filepath.Join(dir, "moxi-key.pem"), filepath.Join(dir, "ca.pem")
	_, rest, client, servers, err := splitTLSKeys("downstream_max=4,tls_cert=" + cert + ",tls_key=" + key +
		",downstream_tls=1,downstream_tls_ca=" + ca + ",timeout=9")
	if err != nil || client == nil || servers == nil || rest != "downstream_max=4,timeout=9" {
		t.Fatalf("rest %q client %v servers %v err %v", rest, client != nil, servers != nil, err)
	}
	_, _, client, servers, err = splitTLSKeys("downstream_max=4")
	if err != nil || client != nil || servers != nil {
		t.Fatalf("no TLS keys: client %v servers %v err %v", client, servers, err)
	}
	for z, want := range map[string]string{
		"tls_cert=" + cert + ",tls_key=/nonexistent":             "tls_cert/tls_key/tls_ca",
		"tls_cert=" + cert:                                       "needs a certificate and a key",
		"tls_cert=" + cert + ",tls_key=" + key + ",tls_verify=1": "verifying clients needs a CA file",
		"tls_verify=maybe":                                       "tls_verify",
		"downstream_tls_ca=" + ca:                                "set downstream_tls=1",
		"downstream_tls=1,downstream_tls_ca=/nonexistent":        "downstream_tls",
	} {
		_, _, _, _, err := splitTLSKeys(z)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line with %q", z, err, want)
		}
	}
}
