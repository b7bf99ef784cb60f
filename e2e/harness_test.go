package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/proxytest"
)

const (
	startTimeout = 10 * time.Second // a process must accept connections within this
	stopTimeout  = 5 * time.Second  // and exit within this after SIGTERM
	portAttempts = 5                // fresh ports tried when one turns out taken
)

// requireTool is proxytest.RequireTool for e2e: the path of a program,
// or a failure under CI=true (a skip otherwise) naming its package.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	return proxytest.RequireTool(t, "e2e", name)
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int { return proxytest.FreePort(t) }

func addrOf(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// proc is a started child process listening on Port.
type proc struct {
	Name    string
	Port    int
	Addr    string
	cmd     *exec.Cmd
	output  *proxytest.SyncBuffer
	done    chan struct{}  // closed when the process has exited
	stopSig syscall.Signal // what stop sends first: SIGTERM, or SIGKILL for memcached
	err     error          // cmd.Wait's result, valid after done
}

func startProc(name string, port int, path string, args ...string) (*proc, error) {
	return startProcEnv(name, port, path, nil, args...)
}

// startProcEnv is startProc with env added to the inherited environment
// (SASL settings of memcached -S, moxi's MOXI_SASL_PLAIN_* variables).
func startProcEnv(name string, port int, path string, env []string, args ...string) (*proc, error) {
	p := &proc{Name: name, Port: port, Addr: addrOf(port), output: &proxytest.SyncBuffer{}, done: make(chan struct{}),
		stopSig: syscall.SIGTERM}
	if name == "memcached" {
		p.stopSig = syscall.SIGKILL // memcached lingers a second on SIGTERM
	}
	p.cmd = exec.Command(path, args...)
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	p.cmd.Stdout = p.output
	p.cmd.Stderr = p.output
	// If the test binary dies (a timeout, a kill), its servers die with it
	// instead of lingering on their ports.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Output is what the process wrote to stdout and stderr so far.
func (p *proc) Output() string { return p.output.String() }

// waitAccepting polls until the process accepts a TCP connection. It fails
// when the process exits first or the deadline passes.
func (p *proc) waitAccepting() error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("%s exited before accepting on %s: %v\n%s", p.Name, p.Addr, p.err, p.Output())
		}
		c, err := net.DialTimeout("tcp", p.Addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s not accepting on %s after %v\n%s", p.Name, p.Addr, startTimeout, p.Output())
}

// Signal sends sig to the process.
func (p *proc) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v to %s: %v", sig, p.Name, err)
	}
}

// waitExit waits for the process to exit and returns its exit code, or -1
// and an error after the timeout.
func (p *proc) waitExit(timeout time.Duration) (int, error) {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), nil
	case <-time.After(timeout):
		return -1, fmt.Errorf("%s still running %v after the signal", p.Name, timeout)
	}
}

// stop ends the process: SIGCONT (in case a test stopped it), then its
// stop signal, then SIGKILL after stopTimeout.
func (p *proc) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.cmd.Process.Signal(p.stopSig)
	if _, err := p.waitExit(stopTimeout); err != nil {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// launch starts a listening process on a fresh port, retrying on another
// port when the process exits early with a bind error. args gets the port.
func launch(t testing.TB, name, path string, args func(port int) []string) *proc {
	t.Helper()
	return launchEnv(t, name, path, nil, args)
}

// launchEnv is launch with env added to the process's environment.
func launchEnv(t testing.TB, name, path string, env []string, args func(port int) []string) *proc {
	t.Helper()
	var lastErr error
	for range portAttempts {
		port := freePort(t)
		p, err := startProcEnv(name, port, path, env, args(port)...)
		if err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		if err = p.waitAccepting(); err == nil {
			t.Cleanup(func() {
				p.stop()
				checkCrashReports(t, p)
				if out := p.Output(); t.Failed() && out != "" {
					t.Logf("%s (port %d) output:\n%s", name, port, out)
				}
			})
			return p
		}
		p.stop()
		lastErr = err
		if !isBindError(p.Output()) {
			break
		}
	}
	t.Fatalf("start %s: %v", name, lastErr)
	return nil
}

// checkCrashReports fails the test when moxi's output shows a data race
// (the binary is built with -race when the tests are) or a panic, even a
// recovered one.
func checkCrashReports(t testing.TB, p *proc) {
	t.Helper()
	if p.Name != "moxi" {
		return
	}
	out := p.Output()
	for _, sign := range []string{"WARNING: DATA RACE", "panic"} {
		if strings.Contains(out, sign) {
			t.Errorf("moxi (port %d) output reports %q", p.Port, sign)
		}
	}
}

func isBindError(output string) bool {
	o := strings.ToLower(output)
	return strings.Contains(o, "address already in use") || strings.Contains(o, "could not listen") ||
		strings.Contains(o, "failed to listen")
}

// memcachedArgs are the flags of every test memcached (proxytest's),
// plus extra; e2e launches it as a proc of its own to kill and watch it.
func memcachedArgs(port int, extra ...string) []string {
	return proxytest.MemcachedArgs(port, extra...)
}

// startMemcached starts a real memcached on a free loopback port.
func startMemcached(t testing.TB, extra ...string) *proc {
	t.Helper()
	path := requireTool(t, "memcached")
	return launch(t, "memcached", path, func(port int) []string { return memcachedArgs(port, extra...) })
}

// startMemcacheds starts n memcached servers.
func startMemcacheds(t testing.TB, n int, extra ...string) []*proc {
	t.Helper()
	ms := make([]*proc, n)
	for i := range ms {
		ms[i] = startMemcached(t, extra...)
	}
	return ms
}

// startMemcachedOn starts memcached on a given port, which must be free.
func startMemcachedOn(t testing.TB, port int) *proc {
	t.Helper()
	path := requireTool(t, "memcached")
	p, err := startProc("memcached", port, path, memcachedArgs(port)...)
	if err != nil {
		t.Fatalf("start memcached: %v", err)
	}
	t.Cleanup(p.stop)
	if err := p.waitAccepting(); err != nil {
		t.Fatal(err)
	}
	return p
}

// startMoxi starts moxi; args gets the port the test should make it listen
// on. -l 127.0.0.1 is added in front.
func startMoxi(t testing.TB, args func(port int) []string) *proc {
	t.Helper()
	bin := requireMoxi(t)
	return launch(t, "moxi", bin, func(port int) []string {
		return append([]string{"-l", "127.0.0.1"}, args(port)...)
	})
}

// startProxy starts moxi proxying to servers (host:port list) with an ascii
// downstream plus the given -Z behaviors and extra flags.
func startProxy(t testing.TB, servers []string, behaviors string, extra ...string) *proc {
	t.Helper()
	z := "downstream_protocol=ascii"
	if behaviors != "" {
		z += "," + behaviors
	}
	return startMoxi(t, func(port int) []string {
		args := []string{"-z", fmt.Sprintf("%d=%s", port, strings.Join(servers, ",")), "-Z", z}
		return append(args, extra...)
	})
}

// startServer starts moxi as a plain memcached server (-p, no -z).
func startServer(t testing.TB, extra ...string) *proc {
	t.Helper()
	return startMoxi(t, func(port int) []string {
		return append([]string{"-p", strconv.Itoa(port)}, extra...)
	})
}

func addrs(ps []*proc) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Addr
	}
	return out
}

// runResult is the outcome of a short-lived command.
type runResult struct {
	Code   int
	Stdout string
	Stderr string
}

// runMoxi runs moxi to completion (for flags that exit) and fails the test
// if it is still running after the timeout.
func runMoxi(t testing.TB, timeout time.Duration, args ...string) runResult {
	t.Helper()
	bin := requireMoxi(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("moxi %q still running after %v; stderr:\n%s", args, timeout, stderr.String())
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("moxi %q: %v", args, err)
	}
	return runResult{Code: cmd.ProcessState.ExitCode(), Stdout: stdout.String(), Stderr: stderr.String()}
}

// waitPort polls until something accepts connections on addr.
func waitPort(t testing.TB, addr string) {
	t.Helper()
	eventually(t, startTimeout, func() error {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err
	})
}

// eventually polls cond every 10ms until it returns nil or the timeout
// passes, and then fails with cond's last error.
func eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not true after %v: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
