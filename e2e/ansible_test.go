package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The Ansible role (ansible/roles/moxi) and playbook (ansible/site.yml):
// Debian's ansible-lint must pass them without a warning, ansible-playbook
// must parse them, and the /etc/default/moxi the role writes for a sample
// inventory must start a real fleet that serves.

const ansibleTimeout = 2 * time.Minute

// ansibleDir is ansible/ under the repository. Every file under it is
// read so that the go command's test cache notices a change to one (the
// tools read them in subprocesses, which the cache does not see).
func ansibleDir(t *testing.T) string {
	t.Helper()
	if repoRoot == "" {
		t.Fatal("e2e: repository root not found")
	}
	dir := filepath.Join(repoRoot, "ansible")
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		_, err = os.ReadFile(path) // follows files/moxi.service to deploy/moxi.service
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no file under %s", dir)
	}
	return dir
}

// ansibleEnv keeps ansible's temporary and cache files in the test's
// temp dir, and its output free of colour.
func ansibleEnv(t *testing.T) []string {
	tmp := t.TempDir()
	return append(os.Environ(), "ANSIBLE_NOCOLOR=1", "NO_COLOR=1", "ANSIBLE_FORCE_COLOR=0",
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(tmp, "local"), "ANSIBLE_REMOTE_TEMP="+filepath.Join(tmp, "remote"),
		"ANSIBLE_RETRY_FILES_ENABLED=0", "ANSIBLE_CONFIG="+filepath.Join(tmp, "none.cfg"))
}

// runAnsible runs an ansible tool in dir and returns its exit error and
// its combined output; it fails the test if it outlives ansibleTimeout.
func runAnsible(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ansibleTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %q still running after %v:\n%s", name, args, ansibleTimeout, out)
	}
	return string(out), err
}

// ansiblePlaybook finds ansible-playbook, which Debian's ansible ships
// next to ansible (ansible-core's own package has it too).
func ansiblePlaybook(t *testing.T) string {
	t.Helper()
	ansible := requireTool(t, "ansible")
	p := filepath.Join(filepath.Dir(ansible), "ansible-playbook")
	if _, err := os.Stat(p); err != nil {
		if p, err = exec.LookPath("ansible-playbook"); err != nil {
			t.Fatalf("ansible-playbook not found next to %s nor on PATH (apt-get install -y ansible)", ansible)
		}
	}
	return p
}

func TestAnsibleLint(t *testing.T) {
	lint := requireTool(t, "ansible-lint")
	dir := ansibleDir(t)
	// --offline: install no collection or role from Galaxy. --strict:
	// warnings fail too; the output is checked for them all the same.
	out, err := runAnsible(t, repoRoot, ansibleEnv(t), lint, "--offline", "--strict", "--nocolor", dir)
	if err != nil {
		t.Fatalf("ansible-lint %s: %v\n%s", dir, err, out)
	}
	if strings.Contains(strings.ToLower(out), "warning") && !strings.Contains(out, " 0 warning(s)") {
		t.Errorf("ansible-lint warns:\n%s", out)
	}
	for line := range strings.SplitSeq(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "WARNING") || strings.Contains(line, "[WARNING]") {
			t.Errorf("ansible-lint: %s", line)
		}
	}
	if !strings.Contains(out, "0 failure(s), 0 warning(s)") {
		t.Errorf("ansible-lint did not report 0 failures and 0 warnings:\n%s", out)
	}
	t.Logf("ansible-lint: %s", strings.TrimSpace(out))
}

func TestAnsibleSyntaxCheck(t *testing.T) {
	playbook := ansiblePlaybook(t)
	dir := ansibleDir(t)
	inv := filepath.Join(t.TempDir(), "hosts.ini")
	if err := os.WriteFile(inv, []byte("[moxi]\nnode1 moxi_cluster_bind=10.0.0.5:7946\nnode2 moxi_cluster_bind=10.0.0.6:7946\n"),
		0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runAnsible(t, dir, ansibleEnv(t), playbook, "--syntax-check", "-i", inv, "site.yml")
	if err != nil {
		t.Fatalf("ansible-playbook --syntax-check site.yml: %v\n%s", err, out)
	}
	if strings.Contains(out, "[WARNING]") || strings.Contains(out, "[DEPRECATION WARNING]") {
		t.Errorf("ansible-playbook --syntax-check warns:\n%s", out)
	}
	if !strings.Contains(out, "playbook: site.yml") {
		t.Errorf("ansible-playbook --syntax-check did not name the playbook:\n%s", out)
	}
}

// renderPlaybook renders the role's /etc/default/moxi for every host of
// an inventory, into OUT/HOST, on the local machine: it loads the role's
// defaults, vars and checks (tasks/settings.yml, which only reads) and
// runs the role's template task's template.
const renderPlaybook = `---
- name: Render /etc/default/moxi
  hosts: all
  connection: local
  gather_facts: false
  tasks:
    - name: Load the role's settings
      ansible.builtin.include_role:
        name: moxi
        tasks_from: settings
        public: true
    - name: Render the template
      ansible.builtin.template:
        src: %q
        dest: "%s/{{ inventory_hostname }}"
        mode: "0600"
`

// renderMoxiOpts renders the template for inventory and returns each
// host's MOXI_OPTS split as systemd splits an unquoted $MOXI_OPTS.
func renderMoxiOpts(t *testing.T, inventory string, hosts ...string) map[string][]string {
	t.Helper()
	playbook := ansiblePlaybook(t)
	dir := ansibleDir(t)
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	pb := filepath.Join(tmp, "render.yml")
	tmpl := filepath.Join(dir, "roles", "moxi", "templates", "moxi.default.j2")
	if err := os.WriteFile(pb, fmt.Appendf(nil, renderPlaybook, tmpl, out), 0o644); err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(tmp, "inventory.yml")
	if err := os.WriteFile(inv, []byte(inventory), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(ansibleEnv(t), "ANSIBLE_ROLES_PATH="+filepath.Join(dir, "roles"))
	log, err := runAnsible(t, tmp, env, playbook, "-i", inv, pb)
	if err != nil {
		t.Fatalf("ansible-playbook render.yml: %v\n%s", err, log)
	}
	if strings.Contains(log, "[WARNING]") {
		t.Errorf("ansible-playbook render.yml warns:\n%s", log)
	}
	opts := map[string][]string{}
	for _, h := range hosts {
		b, err := os.ReadFile(filepath.Join(out, h))
		if err != nil {
			t.Fatalf("%v\n%s", err, log)
		}
		var lines []string
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "MOXI_OPTS="); ok {
				lines = append(lines, v)
			}
		}
		if len(lines) != 1 {
			t.Fatalf("%s: %d MOXI_OPTS lines, want 1:\n%s", h, len(lines), b)
		}
		v, err := strconv.Unquote(lines[0])
		if err != nil {
			t.Fatalf("%s: MOXI_OPTS=%s: %v", h, lines[0], err)
		}
		opts[h] = strings.Fields(v)
		t.Logf("%s: MOXI_OPTS=%q", h, v)
	}
	return opts
}

// optZ is the value of the -Z in args as a map.
func optZ(t *testing.T, args []string) map[string]string {
	t.Helper()
	for i, a := range args {
		if a == "-Z" && i+1 < len(args) {
			m := map[string]string{}
			for kv := range strings.SplitSeq(args[i+1], ",") {
				k, v, _ := strings.Cut(kv, "=")
				m[k] = v
			}
			return m
		}
	}
	t.Fatalf("no -Z in %q", args)
	return nil
}

// TestAnsibleRenderedOptsServe renders /etc/default/moxi for a two-node
// fleet and a standalone proxy, starts moxi with each MOXI_OPTS for real
// (on loopback, in front of a memcached), and checks that the nodes form
// one fleet and serve: the inventory variables map to flags moxi takes.
// After the fleet ran, the first node's file names the other to join, as
// a restart in a rolling upgrade needs; the test restarts it with that.
func TestAnsibleRenderedOptsServe(t *testing.T) {
	ansiblePlaybook(t)
	bin := requireMoxi(t)
	mc := startMemcached(t)
	tmp := t.TempDir()
	ips := fleetIPs(t, 2)
	gossip, port, admin := fleetPorts(t, ips)
	soloPort, soloAdmin := freePort(t), freePort(t)
	keyFile, tokenFile := filepath.Join(tmp, "gossip.key"), filepath.Join(tmp, "admin.token")
	key := runMoxi(t, 10*time.Second, "keygen")
	if key.Code != 0 {
		t.Fatalf("moxi keygen: %d %s", key.Code, key.Stderr)
	}
	const token = "ansible-test-token"
	for path, data := range map[string]string{keyFile: key.Stdout, tokenFile: token + "\n"} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	data := []string{filepath.Join(tmp, "data1"), filepath.Join(tmp, "data2")}
	inventory := fmt.Sprintf(`all:
  children:
    moxi:
      vars:
        moxi_port: %[1]d
        moxi_max_conns: 200
        moxi_behaviors: {cluster_fast: true, downstream_protocol: ascii, downstream_timeout: 2000}
        moxi_cluster_key_file: %[2]s
        moxi_admin_token_file: %[3]s
      hosts:
        node1:
          moxi_listen_ip: %[4]s
          moxi_cluster_bind: %[4]s:%[6]d
          moxi_cluster_data: %[8]s
          moxi_admin_listen: %[4]s:%[7]d
          moxi_servers: [%[10]s]
        node2:
          moxi_listen_ip: %[5]s
          moxi_cluster_bind: %[5]s:%[6]d
          moxi_cluster_data: %[9]s
          moxi_admin_listen: %[5]s:%[7]d
    solo:
      hosts:
        solo1:
          moxi_listen_ip: 127.0.0.1
          moxi_port: %[11]d
          moxi_admin_listen: 127.0.0.1:%[12]d
          moxi_servers: [%[10]s]
          moxi_behaviors: {downstream_protocol: ascii}
`, port, keyFile, tokenFile, ips[0], ips[1], gossip, admin, data[0], data[1], mc.Addr, soloPort, soloAdmin)
	opts := renderMoxiOpts(t, inventory, "node1", "node2", "solo1")

	// The mapping, as moxi will read it.
	z1, z2 := optZ(t, opts["node1"]), optZ(t, opts["node2"])
	for _, c := range []struct {
		host, key, want string
		z               map[string]string
	}{
		{"node1", "cluster_bind", fmt.Sprintf("%s:%d", ips[0], gossip), z1},
		{"node1", "cluster_join", "", z1}, // a first start bootstraps
		{"node1", "cluster_fast", "1", z1},
		{"node1", "cluster_key_file", keyFile, z1},
		{"node1", "admin_token_file", tokenFile, z1},
		{"node2", "cluster_join", fmt.Sprintf("%s:%d", ips[0], gossip), z2},
		{"node2", "cluster_data", data[1], z2},
		{"node2", "port_listen", strconv.Itoa(port), z2},
	} {
		if got := c.z[c.key]; got != c.want {
			t.Errorf("%s: -Z %s=%q, want %q", c.host, c.key, got, c.want)
		}
	}
	if s := strings.Join(opts["node2"], " "); strings.Contains(s, "-z") || !strings.Contains(s, "-c 200") {
		t.Errorf("node2: MOXI_OPTS %q: want no -z (it joins) and -c 200", s)
	}
	if s := strings.Join(opts["node1"], " "); !strings.Contains(s, fmt.Sprintf("-z %d=%s", port, mc.Addr)) {
		t.Errorf("node1: MOXI_OPTS %q lacks -z %d=%s", s, port, mc.Addr)
	}

	// The standalone proxy serves.
	solo := startRendered(t, bin, "solo1", opts["solo1"])
	soloAddr := addrOf(soloPort)
	waitHealth(t, solo, "127.0.0.1:"+strconv.Itoa(soloAdmin), "")
	mcSetGet(t, soloAddr, "ansible_solo", "v0", true)

	// The fleet: node1 bootstraps it, node2 joins; both serve the same map.
	addr := func(i int) string { return net.JoinHostPort(ips[i], strconv.Itoa(port)) }
	adminAddr := func(i int) string { return net.JoinHostPort(ips[i], strconv.Itoa(admin)) }
	n1 := startRendered(t, bin, "node1", opts["node1"])
	waitHealth(t, n1, adminAddr(0), token)
	waitLeader(t, n1, adminAddr(0), token)
	n2 := startRendered(t, bin, "node2", opts["node2"])
	waitHealth(t, n2, adminAddr(1), token)
	waitLeader(t, n2, adminAddr(1), token)
	mcSetGet(t, addr(0), "ansible_fleet", "v1", true)
	mcSetGet(t, addr(1), "ansible_fleet", "v1", false) // written through node1, read through node2

	// Rendered again now that node1 has data, its file joins node2: a
	// restart (the rolling upgrade's) rejoins the fleet.
	opts = renderMoxiOpts(t, inventory, "node1")
	if got, want := optZ(t, opts["node1"])["cluster_join"], fmt.Sprintf("%s:%d", ips[1], gossip); got != want {
		t.Fatalf("node1 with data: -Z cluster_join=%q, want %q", got, want)
	}
	n1.stop()
	if n1.err != nil {
		t.Errorf("node1 did not stop cleanly on SIGTERM: %v", n1.err)
	}
	n1 = startRendered(t, bin, "node1", opts["node1"])
	waitHealth(t, n1, adminAddr(0), token)
	waitLeader(t, n1, adminAddr(0), token)
	waitLeader(t, n2, adminAddr(1), token)
	mcSetGet(t, addr(0), "ansible_fleet", "v2", true)
	mcSetGet(t, addr(1), "ansible_fleet", "v2", false)
}

// startRendered starts moxi with a rendered MOXI_OPTS, stopping it when
// the test ends.
func startRendered(t *testing.T, bin, host string, args []string) *proc {
	t.Helper()
	p, err := startProcEnv("moxi", 0, bin, noRaceExitSleep(), args...)
	if err != nil {
		t.Fatalf("start %s: %v", host, err)
	}
	t.Cleanup(func() {
		p.stop()
		checkCrashReports(t, p)
		if t.Failed() {
			t.Logf("%s (moxi %q) output:\n%s", host, args, p.Output())
		}
	})
	return p
}

// ansibleAdminGet GETs path on an admin server with the bearer token, if any.
func ansibleAdminGet(admin, path, token string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+admin+path, nil)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// waitHealth polls /health until 200, as the role's wait does.
func waitHealth(t *testing.T, p *proc, admin, token string) {
	t.Helper()
	eventually(t, 3*startTimeout, func() error {
		if p.exited() {
			return fmt.Errorf("moxi exited: %v", p.err)
		}
		code, _, err := ansibleAdminGet(admin, "/health", token)
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("/health: %d", code)
		}
		return err
	})
}

// waitLeader polls /status until it is serving and names a leader, as the
// role's wait does.
func waitLeader(t *testing.T, p *proc, admin, token string) {
	t.Helper()
	eventually(t, 3*startTimeout, func() error {
		if p.exited() {
			return fmt.Errorf("moxi exited: %v", p.err)
		}
		code, b, err := ansibleAdminGet(admin, "/status", token)
		if err != nil {
			return err
		}
		var st struct {
			Leader  string `json:"leader"`
			Serving bool   `json:"serving"`
		}
		if code != http.StatusOK {
			return fmt.Errorf("/status: %d %s", code, b)
		}
		if err := json.Unmarshal(b, &st); err != nil {
			return err
		}
		if st.Leader == "" || !st.Serving {
			return fmt.Errorf("/status: leader %q, serving %v", st.Leader, st.Serving)
		}
		return nil
	})
}

// mcSetGet sets key to val through the proxy at addr (when set) and then
// reads it back there, with the text protocol.
func mcSetGet(t *testing.T, addr, key, val string, set bool) {
	t.Helper()
	eventually(t, startTimeout, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		r := bufio.NewReader(c)
		if set {
			fmt.Fprintf(c, "set %s 0 0 %d\r\n%s\r\n", key, len(val), val)
			if line, err := r.ReadString('\n'); err != nil || line != "STORED\r\n" {
				return fmt.Errorf("set %s via %s: %q %v", key, addr, line, err)
			}
		}
		fmt.Fprintf(c, "get %s\r\n", key)
		want := fmt.Sprintf("VALUE %s 0 %d\r\n%s\r\nEND\r\n", key, len(val), val)
		got := make([]byte, len(want))
		if _, err := io.ReadFull(r, got); err != nil || string(got) != want {
			return fmt.Errorf("get %s via %s: %q %v, want %q", key, addr, got, err, want)
		}
		return nil
	})
}
