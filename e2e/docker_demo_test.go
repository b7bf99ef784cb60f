package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

// TestDockerDemo builds the demo image (deploy/docker/build.sh), brings
// compose.yaml up under a project of its own on free ports, and checks
// what the README promises: a 3-node fleet with a leader serving the
// mock's map, keys through a published proxy port, and leadership moving
// when the leader's container is killed.
func TestDockerDemo(t *testing.T) {
	requireDocker(t)
	compose := composeCommand(t)
	root := repoRootDir(t)
	start := time.Now()
	build := exec.Command(filepath.Join(root, "deploy/docker/build.sh"))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	t.Logf("image built in %v", time.Since(start).Round(time.Millisecond))

	d := &demo{t: t, compose: compose, root: root, project: fmt.Sprintf("moxie2e%d", rand.IntN(1e9))}
	t.Cleanup(d.down) // registered before up: a half-started project is removed too
	d.up()

	page1 := "http://" + d.port("pages", 8290)
	var st fleetStatus
	pollDeadline(t, 60*time.Second, "node1: 3 members, a leader, a map", func() bool {
		st = d.status(page1)
		return len(st.Members) == 3 && st.Leader != "" && st.Serving && st.version() > 0
	})
	t.Logf("fleet up at %v: leader %s, map version %d", time.Since(start).Round(time.Millisecond), st.Leader, st.version())

	mc := memcache.New(d.port("node1", 11211))
	if err := mc.Set(&memcache.Item{Key: "demo", Value: []byte("fleet")}); err != nil {
		t.Fatalf("set through node1's published port: %v", err)
	}
	if it, err := mc.Get("demo"); err != nil || string(it.Value) != "fleet" {
		t.Fatalf("get through node1's published port: %v %v", it, err)
	}

	// The leader's name is its cluster_bind; node N is .1N (compose.yaml).
	leader := map[string]string{d.ip(11): "node1", d.ip(12): "node2", d.ip(13): "node3"}[hostOf(st.Leader)]
	if leader == "" {
		t.Fatalf("leader %q is none of the demo's nodes", st.Leader)
	}
	d.run("kill", leader)
	survivor := map[string]string{"node1": "node2", "node2": "node3", "node3": "node1"}[leader]
	page := "http://" + d.port("pages", map[string]int{"node1": 8290, "node2": 8291, "node3": 8292}[survivor])
	pollDeadline(t, 30*time.Second, "a new leader after killing "+leader, func() bool {
		st = d.status(page)
		return st.Leader != "" && hostOf(st.Leader) != d.ip(map[string]int{"node1": 11, "node2": 12, "node3": 13}[leader])
	})
	pollDeadline(t, 15*time.Second, survivor+" /health 200", func() bool {
		resp, err := http.Get(page + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	// The key lives in the mock, so a survivor still reads it.
	if it, err := memcache.New(d.port(survivor, 11211)).Get("demo"); err != nil || string(it.Value) != "fleet" {
		t.Fatalf("get through %s after the kill: %v %v", survivor, it, err)
	}
	t.Logf("%s killed; new leader %s; total %v", leader, st.Leader, time.Since(start).Round(time.Millisecond))
}

// composeCommand is "docker compose" when the plugin is there, else
// docker-compose (Debian's docker-compose package).
func composeCommand(t *testing.T) []string {
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	return []string{requireTool(t, "docker-compose")}
}

// repoRootDir is the module root: compose.yaml and deploy/ live there.
func repoRootDir(t *testing.T) string {
	if _, err := os.Stat(filepath.Join(repoRoot, "compose.yaml")); repoRoot == "" || err != nil {
		t.Fatalf("no compose.yaml at the repo root %q: %v", repoRoot, err)
	}
	return repoRoot
}

func hostOf(hostPort string) string { h, _, _ := strings.Cut(hostPort, ":"); return h }

// demo is one compose project of the demo.
type demo struct {
	t       *testing.T
	compose []string
	root    string
	project string
	net     string // MOXI_DEMO_NET: the /24's first three octets
}

func (d *demo) ip(last int) string { return fmt.Sprintf("%s.%d", d.net, last) }

// cmd runs compose with the project's name and environment: every
// published port empty, so docker picks free ones.
func (d *demo) cmd(args ...string) *exec.Cmd {
	full := append(append([]string{}, d.compose[1:]...), append([]string{"-p", d.project}, args...)...)
	c := exec.Command(d.compose[0], full...)
	c.Dir = d.root
	c.Env = append(os.Environ(), "MOXI_DEMO_NET="+d.net)
	for _, v := range []string{"PROXY", "PROXY2", "PROXY3", "PAGE1", "PAGE2", "PAGE3"} {
		c.Env = append(c.Env, "MOXI_DEMO_"+v+"_PORT=")
	}
	return c
}

func (d *demo) run(args ...string) string {
	d.t.Helper()
	out, err := d.cmd(args...).CombinedOutput()
	if err != nil {
		d.t.Fatalf("compose %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// up starts the project on a random /24, trying another when docker
// says it overlaps a network that exists.
func (d *demo) up() {
	d.t.Helper()
	for attempt := 0; ; attempt++ {
		d.net = fmt.Sprintf("172.30.%d", 1+rand.IntN(250))
		out, err := d.cmd("up", "-d").CombinedOutput()
		if err == nil {
			return
		}
		if attempt == 4 || !strings.Contains(string(out), "overlap") {
			d.t.Fatalf("compose up: %v\n%s", err, out)
		}
	}
}

// down removes the project, volumes included, logging the nodes' output
// when the test failed.
func (d *demo) down() {
	if d.net == "" {
		return
	}
	if d.t.Failed() {
		out, _ := d.cmd("logs", "--no-color", "--tail", "40", "mock", "node1", "node2", "node3").CombinedOutput()
		d.t.Logf("compose logs:\n%s", out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := d.cmd("down", "-v", "-t", "5")
	cc := exec.CommandContext(ctx, c.Path, c.Args[1:]...)
	cc.Dir, cc.Env = c.Dir, c.Env
	if out, err := cc.CombinedOutput(); err != nil {
		d.t.Errorf("compose down: %v\n%s", err, out)
	}
}

// port is the host address published for a service's container port.
func (d *demo) port(service string, port int) string {
	d.t.Helper()
	addr := strings.TrimSpace(d.run("port", service, fmt.Sprint(port)))
	if addr == "" {
		d.t.Fatalf("%s:%d is not published", service, port)
	}
	return addr
}

// status is a node's /status through pagegate; zero when unreadable.
func (d *demo) status(base string) fleetStatus {
	var st fleetStatus
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(base + "/status")
	if err != nil {
		return st
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		_ = json.NewDecoder(resp.Body).Decode(&st)
	}
	return st
}

// pollDeadline polls cond every 200 ms until it holds, failing after d.
func pollDeadline(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		<-tick.C
	}
}
