package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestHelpFlag(t *testing.T) {
	t.Parallel()
	res := runMoxi(t, startTimeout, "-h")
	out := res.Stdout + res.Stderr
	if res.Code != 0 {
		t.Errorf("moxi -h: exit %d, want 0", res.Code)
	}
	for _, want := range []string{"-z", "-Z", "-p", "downstream_timeout"} {
		if !strings.Contains(out, want) {
			t.Errorf("moxi -h output lacks %q:\n%s", want, out)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	t.Parallel()
	res := runMoxi(t, startTimeout, "-V")
	if res.Code != 0 || strings.TrimSpace(res.Stdout+res.Stderr) == "" {
		t.Errorf("moxi -V: exit %d, output %q", res.Code, res.Stdout+res.Stderr)
	}
}

// checkOneLineError: a non-zero exit with exactly one line on stderr.
func checkOneLineError(t *testing.T, args ...string) {
	t.Helper()
	res := runMoxi(t, startTimeout, args...)
	lines := strings.Split(strings.TrimRight(res.Stderr, "\n"), "\n")
	if res.Code == 0 || len(lines) != 1 || lines[0] == "" {
		t.Errorf("moxi %q: exit %d, stderr %q; want a non-zero exit and one line", args, res.Code, res.Stderr)
	}
}

func TestBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--no-such-flag"},
		{"-q"},
		{"-p"},
		{"-p", "notaport"},
		{"-t", "0", "-p", "11311"},
		{"-I", "lots", "-p", "11311"},
	} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			t.Parallel()
			checkOneLineError(t, args...)
		})
	}
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-z", "11211"},
		{"-z", "abc=127.0.0.1:11311"},
		{"-z", "0=127.0.0.1:11311"},
		{"-z", "./missing.cfg"},
		{"-z", "/nonexistent/moxi.cfg"},
		{},
	} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			t.Parallel()
			checkOneLineError(t, args...)
		})
	}
}

// TestConfigFile: -z with a file holding two sections over several lines;
// each port routes to its own server.
func TestConfigFile(t *testing.T) {
	t.Parallel()
	a, b := startMemcached(t), startMemcached(t)
	cfg := filepath.Join(t.TempDir(), "moxi.cfg")
	var second int
	proxy := startMoxi(t, func(port int) []string {
		second = freePort(t)
		text := fmt.Sprintf("%d = %s ;\n %d=\n%s\n", port, a.Addr, second, b.Addr)
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return []string{"-z", cfg, "-Z", "downstream_protocol=ascii"}
	})
	dial(t, proxy.Addr).expect("set k 0 0 1\r\na\r\n", "STORED\r\n")
	waitPort(t, addrOf(second))
	dial(t, addrOf(second)).expect("set k 0 0 1\r\nb\r\n", "STORED\r\n")
	for _, c := range []struct{ server, want string }{{a.Addr, "a"}, {b.Addr, "b"}} {
		if got, ok := directGet(t, c.server, "k"); !ok || got != c.want {
			t.Errorf("server %s holds %q (found %v), want %q", c.server, got, ok, c.want)
		}
	}
}

// TestHostWithoutPort: a bare host means port 11211; nothing listens there
// in the test, so the key gets the write error naming the host.
func TestHostWithoutPort(t *testing.T) {
	t.Parallel()
	if c, err := dialTimeout(addrOf(11211)); err == nil {
		c.Close()
		t.Skip("something listens on 127.0.0.1:11211")
	}
	rc := dial(t, startProxy(t, []string{"127.0.0.1"}, "").Addr)
	rc.expect("set k 0 0 1\r\nx\r\n", writeErr)
}

func TestSignals(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			mc := startMemcached(t)
			proxy := startProxy(t, []string{mc.Addr}, "")
			rc := dial(t, proxy.Addr)
			rc.expect("set k 0 0 1\r\nx\r\n", "STORED\r\n")
			proxy.Signal(t, sig)
			code, err := proxy.waitExit(stopTimeout)
			if err != nil {
				t.Fatal(err)
			}
			if code != 0 {
				t.Errorf("exit code after %v: %d, want 0", sig, code)
			}
		})
	}
}

func TestSignalBuiltinServer(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.Signal(t, syscall.SIGTERM)
	if code, err := srv.waitExit(stopTimeout); err != nil || code != 0 {
		t.Errorf("moxi -p after SIGTERM: exit %d, %v", code, err)
	}
}

// TestVerbose: -vv logs client commands on stderr.
func TestVerbose(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t)
	proxy := startProxy(t, []string{mc.Addr}, "", "-vv")
	dial(t, proxy.Addr).expect("get verbose-key\r\n", "END\r\n")
	eventually(t, 2*time.Second, func() error {
		if !strings.Contains(proxy.Output(), "verbose-key") {
			return fmt.Errorf("-vv stderr does not mention the command:\n%s", proxy.Output())
		}
		return nil
	})
}

// TestQuietByDefault: without -v a working moxi writes nothing to stderr.
func TestQuietByDefault(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t)
	proxy := startProxy(t, []string{mc.Addr}, "")
	rc := dial(t, proxy.Addr)
	rc.expect("set k 0 0 1\r\nx\r\n", "STORED\r\n")
	rc.expect("get k\r\n", "VALUE k 0 1\r\nx\r\nEND\r\n")
	if out := proxy.Output(); out != "" {
		t.Errorf("moxi without -v wrote:\n%s", out)
	}
}

// TestThreadsFlag: -t 1 and -t 8 both serve.
func TestThreadsFlag(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t)
	for _, n := range []string{"1", "8"} {
		proxy := startProxy(t, []string{mc.Addr}, "", "-t", n)
		dial(t, proxy.Addr).expect("set k 0 0 1\r\nx\r\n", "STORED\r\n")
	}
}
