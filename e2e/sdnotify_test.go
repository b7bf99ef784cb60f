package e2e

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

// notifySocket stands in for systemd's NOTIFY_SOCKET: a unixgram socket
// in a short temp dir (sun_path holds 108 bytes; t.TempDir may not fit).
func notifySocket(t *testing.T) (path string, c *net.UnixConn) {
	t.Helper()
	dir, err := os.MkdirTemp("", "sd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path = filepath.Join(dir, "notify")
	c, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return path, c
}

// nextNotify returns the next datagram, or "" when none comes within wait.
func nextNotify(t *testing.T, c *net.UnixConn, wait time.Duration) string {
	t.Helper()
	buf := make([]byte, 4096)
	_ = c.SetReadDeadline(time.Now().Add(wait))
	n, err := c.Read(buf)
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return ""
	}
	if err != nil {
		t.Fatalf("read notify socket: %v", err)
	}
	return string(buf[:n])
}

// TestSystemdNotify runs moxi as systemd's Type=notify would: with a REST
// source that is down at first, moxi binds its port but must not report
// READY=1 until the map arrives; once it does, the proxy answers at once.
// SIGHUP is RELOADING=1 then READY=1, and SIGTERM is STOPPING=1 before a
// clean exit.
func TestSystemdNotify(t *testing.T) {
	sock, c := notifySocket(t)
	restAddr := addrOf(freePort(t))
	stream := "http://" + restAddr + "/pools/default/bucketsStreaming/default"
	moxi := launchEnv(t, "moxi", requireMoxi(t), []string{"NOTIFY_SOCKET=" + sock}, func(port int) []string {
		return []string{"-l", "127.0.0.1", "-Z", fmt.Sprintf("port_listen=%d", port), stream}
	})

	// Bound, and the source tried and found down: not ready.
	eventually(t, startTimeout, func() error {
		if !strings.Contains(moxi.Output(), "could not contact REST server(s)") {
			return errors.New("moxi has not tried its REST source yet")
		}
		return nil
	})
	if got := nextNotify(t, c, 300*time.Millisecond); got != "" {
		t.Fatalf("moxi sent %q before it had a map", got)
	}

	startMock(t, "-rest", restAddr, "-nodes", "2", "-vbuckets", "64")
	if got := nextNotify(t, c, 15*time.Second); got != "READY=1" {
		t.Fatalf("after the map arrived moxi sent %q, want READY=1", got)
	}
	// No retries: READY=1 promises answers now.
	client := newVBClient(moxi.Addr)
	if err := client.Set(&memcache.Item{Key: "sd-ready", Value: []byte("ok")}); err != nil {
		t.Fatalf("set right after READY=1: %v", err)
	}
	if it, err := client.Get("sd-ready"); err != nil || string(it.Value) != "ok" {
		t.Fatalf("get right after READY=1: %v", err)
	}

	moxi.Signal(t, syscall.SIGHUP)
	for _, want := range []string{"RELOADING=1", "READY=1"} {
		if got := nextNotify(t, c, 5*time.Second); got != want {
			t.Fatalf("after SIGHUP moxi sent %q, want %q", got, want)
		}
	}

	moxi.Signal(t, syscall.SIGTERM)
	if got := nextNotify(t, c, stopTimeout); got != "STOPPING=1" {
		t.Fatalf("after SIGTERM moxi sent %q, want STOPPING=1", got)
	}
	code, err := moxi.waitExit(stopTimeout)
	if err != nil || code != 0 {
		t.Fatalf("moxi exit = %d, %v; want 0", code, err)
	}
	if got := nextNotify(t, c, 100*time.Millisecond); got != "" {
		t.Errorf("moxi sent %q after STOPPING=1", got)
	}
}
