package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// listenNotify stands in for systemd: a unixgram socket at addr (a path,
// or '@' and a name in the abstract namespace).
func listenNotify(t *testing.T, addr string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// shortDir is a temp dir whose socket paths fit sun_path's 108 bytes,
// which t.TempDir's long names may not.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// received returns every datagram waiting on c, stopping at the first
// read that finds none within wait.
func received(t *testing.T, c *net.UnixConn, wait time.Duration) []string {
	t.Helper()
	var got []string
	buf := make([]byte, 4096)
	for {
		_ = c.SetReadDeadline(time.Now().Add(wait))
		n, err := c.Read(buf)
		if err != nil {
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				return got
			}
			t.Fatalf("read notify socket: %v", err)
		}
		got = append(got, string(buf[:n]))
	}
}

func TestNotifierStates(t *testing.T) {
	for _, abstract := range []bool{false, true} {
		t.Run(fmt.Sprintf("abstract=%v", abstract), func(t *testing.T) {
			addr := filepath.Join(shortDir(t), "notify")
			if abstract {
				addr = fmt.Sprintf("@moxi-test-%d-%d", os.Getpid(), time.Now().UnixNano())
			}
			c := listenNotify(t, addr)
			var logs bytes.Buffer
			sd := newNotifier(addr, slog.New(slog.NewTextHandler(&logs, nil)))

			reloads := 0
			sd.Reloading(func() { reloads++ }) // before READY=1: no states
			sd.Ready()
			sd.Ready() // once only
			sd.Reloading(func() {
				reloads++
				// RELOADING=1 is already out when the reload runs
				if got := received(t, c, 100*time.Millisecond); !slices.Equal(got, []string{"READY=1", "RELOADING=1"}) {
					t.Errorf("during reload: %q", got)
				}
			})
			sd.Stopping()
			sd.Stopping()
			sd.Ready()                         // nothing after STOPPING=1
			sd.Reloading(func() { reloads++ }) // runs, announces nothing

			if got, want := received(t, c, 100*time.Millisecond), []string{"READY=1", "STOPPING=1"}; !slices.Equal(got, want) {
				t.Errorf("after reload: %q, want %q", got, want)
			}
			if reloads != 3 {
				t.Errorf("reload ran %d times, want 3", reloads)
			}
			if logs.Len() != 0 {
				t.Errorf("unexpected log output:\n%s", logs.String())
			}
		})
	}
}

func TestNotifierDisabledOrUnreachable(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	off := newNotifier("", logger)
	if off.enabled() {
		t.Error("notifier without NOTIFY_SOCKET is enabled")
	}
	off.Ready()
	off.Stopping()
	if logs.Len() != 0 {
		t.Errorf("disabled notifier logged:\n%s", logs.String())
	}

	// A socket nobody listens on is logged, not fatal.
	gone := newNotifier(filepath.Join(shortDir(t), "none"), logger)
	gone.Ready()
	if !strings.Contains(logs.String(), "could not notify the service manager") || !strings.Contains(logs.String(), "READY=1") {
		t.Errorf("log = %q, want a warning naming READY=1", logs.String())
	}
}
