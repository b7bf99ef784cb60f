package e2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/proxytest"
)

const (
	writeErr   = "SERVER_ERROR proxy write to downstream 127.0.0.1\r\n"
	timeoutErr = "SERVER_ERROR proxy downstream timeout 127.0.0.1\r\n"
)

// keysOn returns n keys that the ketama ring of servers puts on server idx.
func keysOn(t *testing.T, servers []string, idx, n int, prefix string) []string {
	t.Helper()
	k, err := newKetama(servers, make([]int, len(servers)))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := 0; len(keys) < n; i++ {
		key := fmt.Sprintf("%s-%d", prefix, i)
		if k.locate(key) == idx {
			keys = append(keys, key)
		}
	}
	return keys
}

// expectWithin is rc.expect plus a bound on the reply time.
func expectWithin(t *testing.T, rc *rawConn, limit time.Duration, req, want string) {
	t.Helper()
	start := time.Now()
	rc.expect(req, want)
	if d := time.Since(start); d > limit {
		t.Errorf("%q took %v, want under %v", abbrev(req), d, limit)
	}
}

// errorTranscript is what moxi must answer for a key on a failed server:
// get masks the error as a miss, everything else gets serverErr.
func errorTranscript(key, serverErr string) [][2]string {
	return [][2]string{
		{"get " + key + "\r\n", "END\r\n"},
		{"gets " + key + "\r\n", "END\r\n"},
		{"set " + key + " 0 0 1\r\nx\r\n", serverErr},
		{"add " + key + " 0 0 1\r\nx\r\n", serverErr},
		{"replace " + key + " 0 0 1\r\nx\r\n", serverErr},
		{"append " + key + " 0 0 1\r\nx\r\n", serverErr},
		{"cas " + key + " 0 0 1 1\r\nx\r\n", serverErr},
		{"delete " + key + "\r\n", serverErr},
		{"incr " + key + " 1\r\n", serverErr},
		{"decr " + key + " 1\r\n", serverErr},
		{"touch " + key + " 10\r\n", serverErr},
	}
}

// TestDeadServer: keys of a server with nothing listening get moxi's
// write-to-downstream error (a miss for get); the live server's keys work,
// also in one multi-get with the dead server's keys.
func TestDeadServer(t *testing.T) {
	t.Parallel()
	live := startMemcached(t)
	servers := []string{live.Addr, addrOf(freePort(t))}
	rc := dial(t, startProxy(t, servers, "").Addr)
	dead := keysOn(t, servers, 1, 2, "dead")
	alive := keysOn(t, servers, 0, 2, "live")
	for _, x := range errorTranscript(dead[0], writeErr) {
		expectWithin(t, rc, 2*time.Second, x[0], x[1])
	}
	rc.expect("set "+alive[0]+" 0 0 2\r\nok\r\n", "STORED\r\n")
	rc.expect("set "+alive[1]+" 1 0 3\r\nok2\r\n", "STORED\r\n")
	req := fmt.Sprintf("get %s %s %s %s\r\n", dead[0], alive[0], dead[1], alive[1])
	want := fmt.Sprintf("VALUE %s 0 2\r\nok\r\nVALUE %s 1 3\r\nok2\r\nEND\r\n", alive[0], alive[1])
	expectWithin(t, rc, 2*time.Second, req, want)
}

// TestStoppedServer: a SIGSTOPped memcached makes its keys time out after
// downstream_timeout while the other server keeps answering; after SIGCONT
// it serves again.
func TestStoppedServer(t *testing.T) {
	t.Parallel()
	live, stopped := startMemcached(t), startMemcached(t)
	servers := []string{live.Addr, stopped.Addr}
	proxy := startProxy(t, servers, "downstream_timeout=300")
	slow := keysOn(t, servers, 1, 2, "slow")
	fast := keysOn(t, servers, 0, 1, "fast")
	rc := dial(t, proxy.Addr)
	rc.expect("set "+slow[0]+" 0 0 1\r\na\r\n", "STORED\r\n")
	rc.expect("set "+fast[0]+" 0 0 1\r\nb\r\n", "STORED\r\n")

	stopped.Signal(t, syscall.SIGSTOP)
	t.Cleanup(func() { _ = stopped.cmd.Process.Signal(syscall.SIGCONT) })
	if !proxytest.WaitStopped(stopped.cmd.Process.Pid, 5*time.Second) {
		t.Fatal("memcached did not stop after SIGSTOP")
	}
	for _, x := range errorTranscript(slow[1], timeoutErr) {
		expectWithin(t, rc, time.Second, x[0], x[1])
	}
	req := fmt.Sprintf("get %s %s\r\n", slow[0], fast[0])
	expectWithin(t, rc, time.Second, req, fmt.Sprintf("VALUE %s 0 1\r\nb\r\nEND\r\n", fast[0]))
	expectWithin(t, dial(t, proxy.Addr), time.Second, "get "+fast[0]+"\r\n",
		fmt.Sprintf("VALUE %s 0 1\r\nb\r\nEND\r\n", fast[0]))

	stopped.Signal(t, syscall.SIGCONT)
	eventually(t, 5*time.Second, func() error {
		if got := rc.call("get " + slow[0] + "\r\n"); !strings.HasPrefix(got, "VALUE ") {
			return fmt.Errorf("get after SIGCONT: %q", got)
		}
		return nil
	})
}

// TestBlacklisting: after more than connect_max_errors failed connects the
// server is not tried again for connect_retry_interval, even once it is up;
// with connect_max_errors=0 it is used as soon as it is up.
func TestBlacklisting(t *testing.T) {
	t.Parallel()
	const interval = 1500 * time.Millisecond
	for _, tc := range []struct {
		name      string
		maxErrors int
	}{{"blacklisted", 1}, {"disabled", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			port := freePort(t)
			z := fmt.Sprintf("connect_max_errors=%d,connect_retry_interval=%d", tc.maxErrors, interval.Milliseconds())
			rc := dial(t, startProxy(t, []string{addrOf(port)}, z).Addr)
			for range 3 {
				rc.expect("set k 0 0 1\r\nx\r\n", writeErr)
			}
			lastErr := time.Now()
			startMemcachedOn(t, port)
			if tc.maxErrors == 0 {
				rc.expect("set k 0 0 1\r\nx\r\n", "STORED\r\n")
				return
			}
			rc.expect("set k 0 0 1\r\nx\r\n", writeErr)
			eventually(t, interval+3*time.Second, func() error {
				if got := rc.call("set k 0 0 1\r\nx\r\n"); got != "STORED\r\n" {
					return fmt.Errorf("set: %q", got)
				}
				return nil
			})
			if d := time.Since(lastErr); d < interval-500*time.Millisecond {
				t.Errorf("the server was used again after %v, before connect_retry_interval %v", d, interval)
			}
		})
	}
}

// TestServerRestartedBetweenRequests: a pooled connection to a server that
// restarted is noticed; the next request works on a new connection.
func TestServerRestartedBetweenRequests(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	mc := startMemcachedOn(t, port)
	rc := dial(t, startProxy(t, []string{mc.Addr}, "").Addr)
	rc.expect("set k 0 0 1\r\n1\r\n", "STORED\r\n")
	mc.stop()
	startMemcachedOn(t, port)
	rc.expect("incr k 1\r\n", "NOT_FOUND\r\n")
	rc.expect("set k 0 0 1\r\n1\r\n", "STORED\r\n")
}

// TestBehaviorsAccepted: moxi starts with every documented -Z key and works.
func TestBehaviorsAccepted(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t)
	z := "downstream_timeout=2000,connect_timeout=500,downstream_conn_max=2,downstream_max=64," +
		"wait_queue_timeout=500,connect_max_errors=3,connect_retry_interval=1000,cycle=100," +
		"downstream_conn_queue_timeout=300,downstream_retry=1,mcs_opts=distribution:ketama-weighted"
	exerciseClient(t, startProxy(t, []string{mc.Addr}, z).Addr)
}
