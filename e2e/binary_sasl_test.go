package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/moxifleet/moxi/internal/binproto"
)

// startMemcachedSASL starts memcached requiring SASL (-S) with one PLAIN
// user, from a Cyrus sasldb made with saslpasswd2 in a temporary directory
// that SASL_CONF_PATH points memcached's SASL library at.
func startMemcachedSASL(t *testing.T, user, password string) *proc {
	t.Helper()
	saslpasswd := requireTool(t, "saslpasswd2")
	path := requireTool(t, "memcached")
	dir := t.TempDir()
	db := filepath.Join(dir, "sasldb2")
	cmd := exec.Command(saslpasswd, "-p", "-a", "memcached", "-c", "-f", db, user)
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("saslpasswd2: %v: %s", err, out)
	}
	conf := "mech_list: plain\nsasldb_path: " + db + "\n"
	if err := os.WriteFile(filepath.Join(dir, "memcached.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return launchEnv(t, "memcached", path, []string{"SASL_CONF_PATH=" + dir},
		func(port int) []string { return memcachedArgs(port, "-S") })
}

// saslStats logs in to a memcached -S (its text protocol is off) and
// returns its general stats. The login counts in auth_cmds.
func saslStats(t *testing.T, addr, user, password string) map[string]string {
	t.Helper()
	bc := dialBinary(t, addr)
	defer bc.c.Close()
	bc.send(binReq(binproto.OpSASLAuth, "PLAIN", "\x00"+user+"\x00"+password, nil, 1))
	bc.expect(binproto.OpSASLAuth, binproto.StatusOK, 1)
	bc.send(binReq(binproto.OpStat, "", "", nil, 2))
	m := map[string]string{}
	for {
		p := bc.expect(binproto.OpStat, binproto.StatusOK, 2)
		if len(p.Key) == 0 {
			return m
		}
		m[string(p.Key)] = string(p.Value)
	}
}

// proxyCounter returns one pstd_stats counter of moxi's only bucket.
func proxyCounter(t *testing.T, proxy, name string) int {
	t.Helper()
	for k, v := range statsOf(t, proxy, "stats proxy") {
		if strings.HasSuffix(k, ":pstd_stats:"+name) {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("stats proxy %s = %q", k, v)
			}
			return n
		}
	}
	t.Fatalf("stats proxy has no pstd_stats:%s", name)
	return 0
}

const (
	saslUser     = "moxiuser"
	saslPassword = "s3cret-pw"
	saslRounds   = 100 // requests per client kind, far more than connections
	// saslTimeout replaces moxi's 100 ms auth_timeout: memcached's SASL
	// handshake can take longer on a machine busy with parallel -race
	// tests, and a login moxi gives up on still counts in auth_cmds.
	saslTimeout = "auth_timeout=5000"
)

// TestDownstreamSASL: moxi logs each new binary connection in to a
// memcached that requires SASL, given the credentials by -Z usr/pwd or by
// the MOXI_SASL_PLAIN_* variables, for text and binary clients alike; it
// logs in once per connection, not per request. A wrong password fails
// every request with moxi's downstream error.
func TestDownstreamSASL(t *testing.T) {
	t.Parallel()
	starts := map[string]func(t *testing.T, servers []string) *proc{
		"flags": func(t *testing.T, servers []string) *proc {
			return startBinaryProxy(t, servers, "usr="+saslUser+",pwd="+saslPassword+","+saslTimeout)
		},
		"env": func(t *testing.T, servers []string) *proc {
			return startProxyEnv(t, servers, "binary", saslTimeout, []string{
				"MOXI_SASL_PLAIN_USR=" + saslUser, "MOXI_SASL_PLAIN_PWD=" + saslPassword})
		},
	}
	for name, start := range starts {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			mc := startMemcachedSASL(t, saslUser, saslPassword)
			proxy := start(t, []string{mc.Addr})
			driveSASLProxy(t, proxy.Addr)
			conns := proxyCounter(t, proxy.Addr, "tot_downstream_connect")
			if conns < 1 || conns > 8 {
				t.Errorf("moxi opened %d connections for %d requests, want a few", conns, 4*saslRounds)
			}
			if auths := proxyCounter(t, proxy.Addr, "tot_downstream_auth"); auths != conns {
				t.Errorf("tot_downstream_auth = %d, want one per connection (%d)", auths, conns)
			}
			st := saslStats(t, mc.Addr, saslUser, saslPassword)
			if want := strconv.Itoa(conns + 1); st["auth_cmds"] != want || st["auth_errors"] != "0" {
				t.Errorf("memcached auth_cmds %q auth_errors %q, want %s (moxi's %d connections and this one) and 0",
					st["auth_cmds"], st["auth_errors"], want, conns)
			}
		})
	}
	t.Run("wrong-password", func(t *testing.T) {
		t.Parallel()
		mc := startMemcachedSASL(t, saslUser, saslPassword)
		proxy := startBinaryProxy(t, []string{mc.Addr}, "usr="+saslUser+",pwd=wrong,"+saslTimeout)
		rc := dial(t, proxy.Addr)
		rc.expect("set a 0 0 1\r\nx\r\n", writeErr)
		rc.expect("get a\r\n", "END\r\n")
		rc.expect("delete a\r\n", writeErr)
		bc := dialBinary(t, proxy.Addr)
		bc.send(binReq(binproto.OpSet, "a", "x", storeExtras(0, 0), 1))
		if p := bc.recv(); p.Opcode != binproto.OpSet || p.Opaque != 1 || p.Status() == binproto.StatusOK {
			t.Errorf("binary SET with a wrong downstream password: opcode 0x%02x opaque %d status 0x%04x %q, want an error",
				byte(p.Opcode), p.Opaque, uint16(p.Status()), p.Value)
		}
		st := saslStats(t, mc.Addr, saslUser, saslPassword)
		if st["auth_errors"] == "0" || st["auth_errors"] == "" {
			t.Errorf("memcached auth_errors %q: moxi never tried the wrong password", st["auth_errors"])
		}
	})
}

// driveSASLProxy runs text and binary requests through proxy and checks
// each answer.
func driveSASLProxy(t *testing.T, proxy string) {
	t.Helper()
	rc := dial(t, proxy)
	for i := range saslRounds {
		v := strconv.Itoa(i)
		rc.expect(fmt.Sprintf("set t%d 0 0 %d\r\n%s\r\n", i%10, len(v), v), "STORED\r\n")
		rc.expect(fmt.Sprintf("get t%d\r\n", i%10), fmt.Sprintf("VALUE t%d 0 %d\r\n%s\r\nEND\r\n", i%10, len(v), v))
	}
	bc := dialBinary(t, proxy)
	for i := range saslRounds {
		k, v := fmt.Sprintf("b%d", i%10), strconv.Itoa(i)
		bc.send(binReq(binproto.OpSet, k, v, storeExtras(uint32(i), 0), uint32(2*i)),
			binReq(binproto.OpGetK, k, "", nil, uint32(2*i+1)))
		bc.expect(binproto.OpSet, binproto.StatusOK, uint32(2*i))
		p := bc.expect(binproto.OpGetK, binproto.StatusOK, uint32(2*i+1))
		if string(p.Key) != k || string(p.Value) != v {
			t.Fatalf("binary GETK %s: key %q value %q, want %q", k, p.Key, p.Value, v)
		}
	}
}
