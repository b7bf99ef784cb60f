package proxytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// StartMemcachedSASL starts memcached with SASL required (-S), knowing one
// PLAIN user, through a Cyrus sasldb made with saslpasswd2 (Debian's
// sasl2-bin) in a temporary directory. memcached closes a connection whose
// first command is not an authentication, so a client that skips auth is
// noticed at once.
func StartMemcachedSASL(t testing.TB, pkg, user, password string, args ...string) *Memcached {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "sasldb2")
	saslpasswd := RequireTool(t, pkg, "saslpasswd2")
	cmd := exec.Command(saslpasswd, "-p", "-a", "memcached", "-c", "-f", db, user)
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: saslpasswd2: %v: %s", pkg, err, out)
	}
	conf := "mech_list: plain\nsasldb_path: " + db + "\n"
	if err := os.WriteFile(filepath.Join(dir, "memcached.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"SASL_CONF_PATH=" + dir}
	for attempt := 0; attempt < 5; attempt++ {
		if m := startOn(t, pkg, FreePort(t), append([]string{"-S"}, args...), env); m != nil {
			return m
		}
	}
	t.Fatalf("%s: memcached -S did not start", pkg)
	return nil
}
