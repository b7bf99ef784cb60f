package proxytest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Memcached is a real memcached process started for a test.
type Memcached struct {
	Addr string
	Port int
	Cmd  *exec.Cmd
}

// RequireTool returns the path of a program on PATH, or in /usr/sbin or
// /sbin, where Debian puts admin tools (saslpasswd2) that a user's PATH
// may lack. Without it the test fails when CI=true (CI must have every
// tool) and is skipped otherwise; either way the message names the
// package and the Debian package to install. Every package's tests use
// this one check.
func RequireTool(t testing.TB, pkg, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	msg := pkg + ": " + name + " not found on PATH or in /usr/sbin, /sbin (apt-get install -y " + debianPackage(name) + ")"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// MemcachedArgs are the flags every test memcached runs with, on port,
// plus extra: loopback only, no UDP, two threads, 64 MB; as root it runs
// as root (memcached refuses root without -u).
func MemcachedArgs(port int, extra ...string) []string {
	args := []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0", "-t", "2", "-m", "64"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root")
	}
	return append(args, extra...)
}

// StartMemcached starts memcached on a free loopback port with extra args
// and stops it when the test ends.
func StartMemcached(t testing.TB, pkg string, args ...string) *Memcached {
	t.Helper()
	for attempt := 0; attempt < 5; attempt++ {
		if m := startOn(t, pkg, FreePort(t), args, nil); m != nil {
			return m
		}
	}
	t.Fatalf("%s: memcached did not start", pkg)
	return nil
}

// StartMemcachedOnPort starts memcached on a given loopback port, e.g. to
// bring a server back where a killed one was.
func StartMemcachedOnPort(t testing.TB, pkg string, port int, args ...string) *Memcached {
	t.Helper()
	m := startOn(t, pkg, port, args, nil)
	if m == nil {
		t.Fatalf("%s: memcached did not start on port %d", pkg, port)
	}
	return m
}

func startOn(t testing.TB, pkg string, port int, args, env []string) *Memcached {
	t.Helper()
	bin := RequireTool(t, pkg, "memcached")
	cmd := exec.Command(bin, MemcachedArgs(port, args...)...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: start memcached: %v", pkg, err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if !WaitListening(addr, 5*time.Second) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil
	}
	m := &Memcached{Addr: addr, Port: port, Cmd: cmd}
	t.Cleanup(m.Stop)
	return m
}

// Stop kills the process (resuming it first if it was stopped).
func (m *Memcached) Stop() {
	if m.Cmd.ProcessState != nil {
		return
	}
	_ = m.Cmd.Process.Signal(syscall.SIGCONT)
	_ = m.Cmd.Process.Kill()
	_ = m.Cmd.Wait()
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// WaitListening polls addr until it accepts a connection or d passes.
func WaitListening(addr string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// Pause stops the process with SIGSTOP and waits until the kernel reports
// it stopped, so no request slips through after Pause returns. The test's
// cleanup resumes it.
func (m *Memcached) Pause(t testing.TB) {
	t.Helper()
	if err := m.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("stop memcached: %v", err)
	}
	if !WaitStopped(m.Cmd.Process.Pid, 5*time.Second) {
		t.Fatalf("memcached pid %d did not stop", m.Cmd.Process.Pid)
	}
}

// WaitStopped polls /proc until process pid is in the stopped state, for
// up to d. A SIGSTOP is not instantaneous: until the kernel has stopped
// every thread, a request can still be served.
func WaitStopped(pid int, d time.Duration) bool {
	stat := "/proc/" + strconv.Itoa(pid) + "/stat"
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(stat)
		if err == nil && processStopped(string(b)) {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

// Resume continues a paused process.
func (m *Memcached) Resume() { _ = m.Cmd.Process.Signal(syscall.SIGCONT) }

// processStopped reads the state field of /proc/PID/stat, which follows
// the parenthesised command name.
func processStopped(stat string) bool {
	i := strings.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && (stat[i+2] == 'T' || stat[i+2] == 't')
}

// debianPackage names the Debian package that ships a tool.
func debianPackage(tool string) string {
	switch tool {
	case "saslpasswd2":
		return "sasl2-bin"
	case "memccapable", "memccat", "memccp":
		return "libmemcached-tools"
	case "promtool":
		return "prometheus"
	case "systemd-analyze":
		return "systemd"
	case "ip":
		return "iproute2"
	}
	return tool
}
