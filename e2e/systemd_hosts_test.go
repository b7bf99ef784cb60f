package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// sysdHosts are containers booting systemd on a docker network of their
// own: machines for the Ansible role, each reachable from the test at
// its IP (the network is a bridge on this host).
type sysdHosts struct {
	t       *testing.T
	net     string   // the network's name, also the containers' prefix
	prefix  string   // the /24's first three octets
	names   []string // container names
	ips     []string
	gateway string // this host's address on the network
}

// startSysdHosts starts n containers of image and waits until systemd
// in each has finished booting. Everything is removed at cleanup.
func startSysdHosts(t *testing.T, image string, n int) *sysdHosts {
	t.Helper()
	h := &sysdHosts{t: t, net: fmt.Sprintf("moxie2esd%d", rand.IntN(1e9))}
	t.Cleanup(h.remove) // before creating: a half-made set is removed too
	for attempt := 0; ; attempt++ {
		// 172.29/16: clear of compose's 172.30 demo and docker's defaults.
		h.prefix = fmt.Sprintf("172.29.%d", 1+rand.IntN(250))
		out, err := exec.Command("docker", "network", "create", "--subnet", h.prefix+".0/24",
			"--gateway", h.prefix+".1", h.net).CombinedOutput()
		if err == nil {
			break
		}
		if attempt == 4 || !strings.Contains(string(out), "overlap") {
			t.Fatalf("docker network create: %v\n%s", err, out)
		}
	}
	h.gateway = h.prefix + ".1"
	for i := range n {
		name, ip := fmt.Sprintf("%s-node%d", h.net, i+1), fmt.Sprintf("%s.%d", h.prefix, 11+i)
		h.names, h.ips = append(h.names, name), append(h.ips, ip)
		// systemd as PID 1 wants to mount and write its cgroups and to
		// make the namespaces and seccomp filters the unit's sandboxing
		// asks for. Not --privileged: it asks for every capability, and
		// runc fails ("unable to apply caps") where dockerd itself lacks
		// one (CAP_SYS_RESOURCE on the CI VM). So: every capability but
		// that one, no seccomp or AppArmor profile, the host's cgroup tree
		// (v1 or v2) read-write, /run on tmpfs.
		out, err := exec.Command("docker", "run", "-d", "--name", name, "--hostname", fmt.Sprintf("node%d", i+1),
			"--network", h.net, "--ip", ip, "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
			"--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined", "--cgroupns=host",
			"-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock", image).CombinedOutput()
		if err != nil {
			t.Fatalf("docker run %s: %v\n%s", name, err, out)
		}
	}
	for _, name := range h.names {
		var state string
		pollDeadline(t, 90*time.Second, name+": systemd booted", func() bool {
			// is-system-running exits non-zero for degraded too: read its word.
			out, _ := exec.Command("docker", "exec", name, "systemctl", "is-system-running").Output()
			state = strings.TrimSpace(string(out))
			return state == "running" || state == "degraded"
		})
		if state == "degraded" {
			out, _ := exec.Command("docker", "exec", name, "systemctl", "--failed", "--no-legend").Output()
			t.Logf("%s: systemd degraded; failed units:\n%s", name, out)
		}
	}
	return h
}

// exec runs a command in container i and returns its output, failing the
// test if it fails.
func (h *sysdHosts) exec(i int, args ...string) string {
	h.t.Helper()
	out, err := exec.Command("docker", append([]string{"exec", h.names[i]}, args...)...).CombinedOutput()
	if err != nil {
		h.t.Fatalf("docker exec %s %q: %v\n%s", h.names[i], args, err, out)
	}
	return string(out)
}

// copy puts a file of this host at path in container i.
func (h *sysdHosts) copy(i int, src, dst string) {
	h.t.Helper()
	if out, err := exec.Command("docker", "cp", src, h.names[i]+":"+dst).CombinedOutput(); err != nil {
		h.t.Fatalf("docker cp %s %s:%s: %v\n%s", src, h.names[i], dst, err, out)
	}
}

// remove deletes the containers and the network, logging moxi's journal
// first when the test failed.
func (h *sysdHosts) remove() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if h.t.Failed() {
		for _, name := range h.names {
			out, _ := exec.CommandContext(ctx, "docker", "exec", name, "journalctl", "-u", "moxi", "--no-pager", "-n", "40").CombinedOutput()
			h.t.Logf("%s: journalctl -u moxi:\n%s", name, out)
		}
	}
	if len(h.names) > 0 {
		if out, err := exec.CommandContext(ctx, "docker", append([]string{"rm", "-f", "-v"}, h.names...)...).CombinedOutput(); err != nil &&
			!strings.Contains(string(out), "No such container") {
			h.t.Errorf("docker rm: %v\n%s", err, out)
		}
	}
	if h.gateway != "" { // the network was made
		if out, err := exec.CommandContext(ctx, "docker", "network", "rm", h.net).CombinedOutput(); err != nil {
			h.t.Errorf("docker network rm %s: %v\n%s", h.net, err, out)
		}
	}
}
