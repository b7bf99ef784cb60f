package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAnsibleSystemdFleet deploys a 3-node fleet with ansible/site.yml
// onto three Debian containers that boot systemd, as on real machines:
// the role's user, unit, /etc/default/moxi and waits under the hardened
// Type=notify unit, a secured fleet (gossip key file, cluster TLS) that
// follows membase-mock, keys set through one node and read through
// another. Then the playbook runs again with a rebuilt moxi, the rolling
// upgrade, while clients keep using all three nodes: no operation may be
// lost and every node must end up running the new binary.
func TestAnsibleSystemdFleet(t *testing.T) {
	requireDocker(t)
	playbook := ansiblePlaybook(t)
	dir := ansibleDir(t)
	if out, err := exec.Command(filepath.Join(filepath.Dir(playbook), "ansible-doc"), "-t", "connection",
		"community.docker.docker").CombinedOutput(); err != nil {
		t.Fatalf("ansible's community.docker collection (the docker connection) is missing: %v\n%s", err, tail(string(out), 500))
	}
	mockBin := requireMock(t)
	start := time.Now()
	image := systemdImage(t)
	t.Logf("image %s ready at %v", image, time.Since(start).Round(time.Millisecond))

	bins := t.TempDir()
	v1, v2 := buildStaticMoxi(t, bins, "e2e-ansible-1"), buildStaticMoxi(t, bins, "e2e-ansible-2")
	h := startSysdHosts(t, image, 3)
	t.Logf("3 hosts booted at %v", time.Since(start).Round(time.Millisecond))
	// The mock runs here, on the network's gateway address, so that its
	// REST port and data nodes are reachable from the containers.
	mock := startMockCmd(t, mockBin, "-host", h.gateway, "-rest", h.gateway+":0", "-nodes", "2", "-vbuckets", "64")

	sec := makeFleetSecrets(t, v1, h)
	inv := writeSysdInventory(t, h, mock.stream)

	runPlaybook(t, playbook, dir, inv, v1)
	t.Logf("first deploy done at %v", time.Since(start).Round(time.Millisecond))
	checkSysdFleet(t, h, sec, "e2e-ansible-1")
	mc := newFailoverClient(h.ips)
	for i := range h.ips {
		key, val := fmt.Sprintf("deploy-%d", i), fmt.Sprintf("through node%d", i+1)
		if err := mc.node(i).Set(mcItem(key, val)); err != nil {
			t.Fatalf("set %s through node%d: %v", key, i+1, err)
		}
		next := (i + 1) % len(h.ips)
		if it, err := mc.node(next).Get(key); err != nil || string(it.Value) != val {
			t.Fatalf("get %s through node%d after a set through node%d: %v %v", key, next+1, i+1, it, err)
		}
	}

	load := mc.startLoad(t)
	runPlaybook(t, playbook, dir, inv, v2)
	st := load.stop()
	t.Logf("rolling upgrade done at %v; load: %s", time.Since(start).Round(time.Millisecond), st)
	if st.lost > 0 || st.wrong > 0 {
		t.Errorf("clients saw errors during the rolling upgrade: %s", st)
	}
	if st.ops < 100 {
		t.Errorf("the load did too little to mean anything: %s", st)
	}
	checkSysdFleet(t, h, sec, "e2e-ansible-2")
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// buildStaticMoxi builds moxi without cgo, so that it runs on the
// containers' Debian whatever this host's libc, reporting version.
func buildStaticMoxi(t *testing.T, dir, version string) string {
	t.Helper()
	out := filepath.Join(dir, "moxi-"+version)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version="+version, "-o", out, "./cmd/moxi")
	cmd.Dir, cmd.Env = repoRoot, append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/moxi (static, %s): %v\n%s", version, err, b)
	}
	return out
}

// fleetSecrets are what the test needs to read /status: the fleet CA
// and an operator's certificate it signed.
type fleetSecrets struct{ client *http.Client }

// makeFleetSecrets makes a gossip key and a CA with a certificate per
// node (moxi keygen, moxi tls-init) and puts them under /etc/moxi on each
// host, owned by the system user moxi, made here as an operator would:
// the role does not copy keys, and the files must be the user's first.
func makeFleetSecrets(t *testing.T, moxi string, h *sysdHosts) *fleetSecrets {
	t.Helper()
	dir := t.TempDir()
	key, err := exec.Command(moxi, "keygen").Output()
	if err != nil {
		t.Fatalf("moxi keygen: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gossip.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	tlsDir := filepath.Join(dir, "tls")
	if out, err := exec.Command(moxi, append([]string{"tls-init", tlsDir, "op"}, h.ips...)...).CombinedOutput(); err != nil {
		t.Fatalf("moxi tls-init: %v\n%s", err, out)
	}
	for i, ip := range h.ips {
		h.exec(i, "useradd", "--system", "--home-dir", "/var/lib/moxi", "--no-create-home", "--shell", "/usr/sbin/nologin", "moxi")
		h.exec(i, "mkdir", "-p", "/etc/moxi/tls")
		h.copy(i, filepath.Join(dir, "gossip.key"), "/etc/moxi/gossip.key")
		for _, f := range []string{"ca.pem", ip + ".pem", ip + "-key.pem"} {
			h.copy(i, filepath.Join(tlsDir, f), "/etc/moxi/tls/"+f)
		}
		h.exec(i, "chown", "-R", "moxi:moxi", "/etc/moxi")
		h.exec(i, "chmod", "-R", "go=", "/etc/moxi")
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(tlsDir, "op.pem"), filepath.Join(tlsDir, "op-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(tlsDir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	// The certificates name the nodes' IPs, so the usual check holds.
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}
	return &fleetSecrets{client: &http.Client{Transport: tr, Timeout: 3 * time.Second}}
}

// writeSysdInventory is the inventory of the three containers, reached
// with the docker connection; JSON is YAML, so ansible reads it as such.
func writeSysdInventory(t *testing.T, h *sysdHosts, source string) string {
	t.Helper()
	hosts := map[string]any{}
	for i, ip := range h.ips {
		hosts[h.names[i]] = map[string]any{
			"moxi_cluster_bind":      ip + ":7946",
			"moxi_cluster_tls_cert":  "/etc/moxi/tls/" + ip + ".pem",
			"moxi_cluster_tls_key":   "/etc/moxi/tls/" + ip + "-key.pem",
			"moxi_admin_listen":      ip + ":8290", // reachable from the test; cluster TLS guards it
			"ansible_docker_timeout": 30,           // 10 s by default: short on a busy CI host
		}
	}
	inv := map[string]any{"moxi": map[string]any{
		"hosts": hosts,
		"vars": map[string]any{
			"ansible_connection":         "community.docker.docker",
			"ansible_python_interpreter": "/usr/bin/python3",
			"moxi_config_url":            source,
			"moxi_cluster_key_file":      "/etc/moxi/gossip.key",
			"moxi_cluster_tls_ca":        "/etc/moxi/tls/ca.pem",
			"moxi_wait_timeout":          120,
		},
	}}
	b, err := json.MarshalIndent(inv, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "hosts.yml")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runPlaybook runs site.yml over the inventory with binary as
// moxi_binary_src; a deploy of three nodes, one at a time, takes a
// minute or two, so it gets its own deadline.
func runPlaybook(t *testing.T, playbook, dir, inv, binary string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, playbook, "-i", inv, "site.yml", "-e", "moxi_binary_src="+binary)
	// Pipelining: a module runs through one docker exec, not three.
	cmd.Dir, cmd.Env = dir, append(ansibleEnv(t), "ANSIBLE_PIPELINING=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ansible-playbook site.yml (%s) after %v: %v\n%s", filepath.Base(binary), time.Since(start).Round(time.Millisecond), err, tail(string(out), 8000))
	}
	_, recap, _ := strings.Cut(string(out), "PLAY RECAP")
	t.Logf("ansible-playbook (%s) took %v; recap:%s", filepath.Base(binary), time.Since(start).Round(time.Millisecond), strings.TrimRight(recap, "\n"))
	if strings.Count(recap, " unreachable=0 ") != 3 || strings.Count(recap, " failed=0 ") != 3 {
		t.Fatalf("ansible-playbook recap shows a failure:\n%s", recap)
	}
}

// checkSysdFleet checks every node: systemd has moxi active, /status
// shows the 3 members, a leader and a map served, and the proxy port
// answers "version" with version, so the running process is the binary.
func checkSysdFleet(t *testing.T, h *sysdHosts, sec *fleetSecrets, version string) {
	t.Helper()
	for i, ip := range h.ips {
		if got := strings.TrimSpace(h.exec(i, "systemctl", "is-active", "moxi")); got != "active" {
			t.Errorf("node%d: systemctl is-active moxi: %q", i+1, got)
		}
		var st fleetStatus
		pollDeadline(t, 30*time.Second, fmt.Sprintf("node%d /status: 3 members, a leader, serving", i+1), func() bool {
			st = fleetStatus{}
			resp, err := sec.client.Get("https://" + ip + ":8290/status")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&st) == nil &&
				len(st.Members) == 3 && st.Leader != "" && st.Serving
		})
		if got := strings.TrimSpace(h.exec(i, "/usr/bin/moxi", "-V")); !strings.Contains(got, version) {
			t.Errorf("node%d: /usr/bin/moxi -V is %q, want %s", i+1, got, version)
		}
		if got, err := proxyVersion(ip + ":11211"); err != nil || got != version {
			t.Errorf("node%d: the proxy's version is %q (%v), want %s", i+1, got, err, version)
		}
	}
}
