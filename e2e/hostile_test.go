package e2e

// Tests of issue 10: moxi driven as a hostile client would drive it. Each
// test names the bug it guards. They poll with deadlines rather than sleep.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hostileReplyTimeout bounds a reply that should come at once: a local
// answer or a round trip to a memcached on loopback.
const hostileReplyTimeout = 2 * time.Second

// moxiDrainTimeout is node.drainTimeout (node/node.go): how long moxi lets
// in-flight requests finish after SIGTERM before closing every connection.
const moxiDrainTimeout = 5 * time.Second

// noRaceExitSleep is an environment addition that drops the race
// runtime's sleep at exit (GORACE atexit_sleep_ms, 1000 by default): a
// moxi built with -race would otherwise add a second to every exit, which
// the shutdown bounds below must not count.
func noRaceExitSleep() []string {
	return []string{"GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")}
}

// zeroKeyLines are request lines naming no key. "gat <exptime>" and
// "gats <exptime>" are valid and memcached answers END; the rest are
// malformed and memcached answers ERROR or CLIENT_ERROR.
var zeroKeyLines = []string{
	"gat 10", "gats 10", "gat 0", "gat 10 ", "gats 10 ",
	"get", "gets", "gat", "gats", "touch", "delete", "incr", "decr",
	"mg", "ms", "md", "ma", "me", "gat abc", "gats abc",
}

// zeroKeyGatLines must be answered END\r\n (memcached's and moxi -p's reply).
var zeroKeyGatLines = []string{"gat 10", "gats 10", "gat 0", "gat 10 ", "gats 10 "}

// tryCall sends req and reads one reply within d. Unlike call it does not
// fail the test, so a caller can report a hung connection and go on.
func (rc *rawConn) tryCall(req string, d time.Duration) (string, error) {
	_ = rc.c.SetDeadline(time.Now().Add(d))
	if _, err := io.WriteString(rc.c, req); err != nil {
		return "", err
	}
	return readReply(rc.r)
}

// repliesOf sends each line (plus \r\n) to addr, one at a time on one
// connection, and returns the replies by line.
func repliesOf(t *testing.T, addr string, lines []string) map[string]string {
	t.Helper()
	rc := dial(t, addr)
	out := make(map[string]string, len(lines))
	for _, l := range lines {
		got, err := rc.tryCall(l+"\r\n", hostileReplyTimeout)
		if err != nil {
			t.Fatalf("%s: %q: %v (got %q)", addr, l, err, got)
		}
		out[l] = got
	}
	return out
}

// checkZeroKeyLines sends every zero-key line to addr and requires
// memcached's reply, then a working set and get on the same connection. A
// connection that hangs is reported and replaced, so that one run shows
// every line that misbehaves.
func checkZeroKeyLines(t *testing.T, addr string, want map[string]string, key string) {
	t.Helper()
	rc := dial(t, addr)
	for i, l := range zeroKeyLines {
		got, err := rc.tryCall(l+"\r\n", hostileReplyTimeout)
		if err != nil {
			t.Errorf("%q: no reply within %v (%v, got %q); memcached answers %q", l, hostileReplyTimeout, err, got, want[l])
			rc.c.Close()
			rc = dial(t, addr)
			continue
		}
		if got != want[l] {
			t.Errorf("%q: got %q, memcached answers %q", l, got, want[l])
		}
		// The connection must still serve.
		val := fmt.Sprintf("after-%d", i)
		set := fmt.Sprintf("set %s 0 0 %d\r\n%s\r\n", key, len(val), val)
		if got, err := rc.tryCall(set, hostileReplyTimeout); err != nil || got != "STORED\r\n" {
			t.Errorf("set after %q: got %q, %v; want STORED", l, got, err)
			rc.c.Close()
			rc = dial(t, addr)
			continue
		}
		wantGet := fmt.Sprintf("VALUE %s 0 %d\r\n%s\r\nEND\r\n", key, len(val), val)
		if got, err := rc.tryCall("get "+key+"\r\n", hostileReplyTimeout); err != nil || got != wantGet {
			t.Errorf("get after %q: got %q, %v; want %q", l, got, err, wantGet)
			rc.c.Close()
			rc = dial(t, addr)
		}
	}
}

// startStaticVBucketMoxi starts moxi on a static vBucket map (a JSON -z
// file, as TestVBucketStaticFile does) whose every vbucket is on server.
func startStaticVBucketMoxi(t testing.TB, server string) *proc {
	t.Helper()
	js, err := json.Marshal(map[string]any{
		"hashAlgorithm": "CRC",
		"numReplicas":   0,
		"serverList":    []string{server},
		"vBucketMap":    [][]int{{0}, {0}, {0}, {0}},
	})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "vbucket.cfg")
	return startMoxi(t, func(port int) []string {
		if err := os.WriteFile(file, fmt.Appendf(nil, "%d = %s\n", port, js), 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{"-z", file}
	})
}

// TestZeroKeyGatReplies guards bug 1 of issue 10: "gat 10" and "gats 10"
// (an exptime and no key) got no reply through the proxy, with either
// downstream protocol and in vBucket mode, and blocked every later reply on
// the connection. memcached and moxi -p answer END. The other zero-key
// shapes must get memcached's own ERROR / CLIENT_ERROR reply, and the
// connection must serve afterwards.
func TestZeroKeyGatReplies(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t)
	want := repliesOf(t, mc.Addr, zeroKeyLines)
	for _, l := range zeroKeyGatLines {
		if want[l] != "END\r\n" {
			t.Fatalf("memcached answers %q with %q, this test expects END", l, want[l])
		}
	}
	targets := []struct {
		name  string
		start func(t *testing.T) string
	}{
		{"proxy-binary", func(t *testing.T) string { return startBinaryProxy(t, []string{mc.Addr}, "").Addr }},
		{"proxy-ascii", func(t *testing.T) string { return startProxy(t, []string{mc.Addr}, "").Addr }},
		{"builtin-server", func(t *testing.T) string { return startServer(t).Addr }},
		{"vbucket-static", func(t *testing.T) string { return startStaticVBucketMoxi(t, mc.Addr).Addr }},
		{"vbucket-rest", func(t *testing.T) string {
			m := startMock(t, "-rest", "127.0.0.1:0", "-nodes", "1", "-vbuckets", "16")
			moxi := startVBMoxi(t, m.stream)
			waitServing(t, newVBClient(moxi.Addr), startTimeout)
			return moxi.Addr
		}},
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			t.Parallel()
			checkZeroKeyLines(t, tg.start(t), want, "zk-"+tg.name)
		})
	}
}

// TestZeroKeyGatFloodKeepsSlots guards bug 2 of issue 10: every zero-key
// gat kept one downstream_max slot forever, so after enough of them every
// request got "SERVER_ERROR proxy wait queue timeout". With -t 4 moxi has
// downstream_max (1024, per thread) x 4 = 4,096 slots; 16 connections of
// 320 pipelined "gat 10" are 5,120 requests, more than all of them.
func TestZeroKeyGatFloodKeepsSlots(t *testing.T) {
	t.Parallel()
	const conns, perConn = 16, 320
	for _, protocol := range []string{"binary", "ascii"} {
		t.Run(protocol, func(t *testing.T) {
			t.Parallel()
			mc := startMemcached(t)
			proxy := startProxyEnv(t, []string{mc.Addr}, protocol, "", nil, "-t", "4")
			var wg sync.WaitGroup
			errc := make(chan error, conns)
			for range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errc <- gatFlood(proxy.Addr, perConn)
				}()
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				if err != nil {
					t.Error(err)
				}
			}
			rc := dial(t, proxy.Addr)
			expectWithin(t, rc, hostileReplyTimeout, "set flood 0 0 2\r\nok\r\n", "STORED\r\n")
			expectWithin(t, rc, hostileReplyTimeout, "get flood\r\n", "VALUE flood 0 2\r\nok\r\nEND\r\n")
			rc.c.Close()
			if n := proxyCounter(t, proxy.Addr, "tot_wait_queue_timeout"); n != 0 {
				t.Errorf("stats proxy tot_wait_queue_timeout = %d after the flood, want 0", n)
			}
			// Every flood connection has ended on moxi's side too: only
			// the stats connection asking is left.
			eventually(t, 5*time.Second, func() error {
				if n := proxyCounter(t, proxy.Addr, "num_upstream"); n != 1 {
					return fmt.Errorf("stats proxy num_upstream = %d, want 1 (the stats connection)", n)
				}
				return nil
			})
		})
	}
}

// gatFlood pipelines n "gat 10" on a new connection, requires n END
// replies, and closes.
func gatFlood(addr string, n int) error {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(8 * time.Second))
	if _, err := io.WriteString(c, strings.Repeat("gat 10\r\n", n)); err != nil {
		return fmt.Errorf("write %d gats: %w", n, err)
	}
	r := bufio.NewReader(c)
	for i := range n {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("reply %d of %d: %w (got %q)", i+1, n, err, line)
		}
		if line != "END\r\n" {
			return fmt.Errorf("reply %d of %d: %q, want END", i+1, n, line)
		}
	}
	return nil
}

// tcpOnPort returns the state (hex, as in /proc/net/tcp: 01 ESTABLISHED,
// 08 CLOSE_WAIT, 09 LAST_ACK, 0A LISTEN) of every IPv4 socket whose local
// port is port, that is the server side of connections to it.
func tcpOnPort(t testing.TB, port int) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	want := fmt.Sprintf(":%04X", port)
	var states []string
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		if strings.HasSuffix(f[1], want) {
			states = append(states, f[3])
		}
	}
	return states
}

// fdCount is the number of open file descriptors of process pid.
func fdCount(t testing.TB, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("read fds of %d: %v", pid, err)
	}
	return len(ents)
}

// hostileShapes are what the clients of TestNoCloseWaitAfterClients send
// before they close without reading.
var hostileShapes = []string{
	"gat 10\r\n",
	"gats 10\r\n",
	"gat 10\r\ngats 10\r\nget hk\r\n",
	"get hk1 hk2 hk3\r\n",
	"gat 10",                 // no line end
	"set hk 0 0 10\r\nabc",   // data cut short
	"gat 10\r\nset hk 0 0 2", // a command line cut short
	"me\r\n",
}

// TestNoCloseWaitAfterClients guards bug 3 of issue 10: a client that sent
// "gat 10" and closed left its socket in CLOSE-WAIT in moxi forever, an fd
// leak. 200 clients send it (and a few other shapes) and close without
// reading; moxi must close its side of every one of them.
func TestNoCloseWaitAfterClients(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	mc := startMemcached(t)
	proxy := startBinaryProxy(t, []string{mc.Addr}, "")
	pid := proxy.cmd.Process.Pid
	// Warm up so that the downstream pool exists, then take the baseline
	// with no client connected.
	rc := dial(t, proxy.Addr)
	rc.expect("set hk 0 0 1\r\nx\r\n", "STORED\r\n")
	rc.expect("get hk\r\n", "VALUE hk 0 1\r\nx\r\nEND\r\n")
	rc.c.Close()
	downBefore := proxyCounter(t, proxy.Addr, "num_downstream_conn")
	var baseFDs int
	eventually(t, 5*time.Second, func() error {
		if s := tcpOnPort(t, proxy.Port); len(s) != 1 {
			return fmt.Errorf("sockets on moxi's port before the clients: states %v, want just the listener", s)
		}
		baseFDs = fdCount(t, pid)
		return nil
	})

	const clients = 200
	var wg sync.WaitGroup
	errc := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", proxy.Addr, ioTimeout)
			if err != nil {
				errc <- err
				return
			}
			defer c.Close()
			_ = c.SetWriteDeadline(time.Now().Add(ioTimeout))
			if _, err := io.WriteString(c, hostileShapes[i%len(hostileShapes)]); err != nil {
				errc <- err
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Errorf("client: %v", err)
	}

	deadline := time.Now().Add(5 * time.Second)
	for {
		states := tcpOnPort(t, proxy.Port)
		var left, closeWait int
		for _, s := range states {
			switch s {
			case "0A": // the listener
			case "08":
				closeWait++
				left++
			default:
				left++
			}
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("5s after %d clients closed, moxi still holds %d sockets of them, %d in CLOSE-WAIT (states %v)",
				clients, left, closeWait, states)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// And their descriptors are released: moxi holds no more fds than
	// before, bar new downstream connections.
	downAfter := proxyCounter(t, proxy.Addr, "num_downstream_conn")
	limit := baseFDs + max(downAfter-downBefore, 0)
	eventually(t, 5*time.Second, func() error {
		if n := fdCount(t, pid); n > limit {
			return fmt.Errorf("moxi has %d fds, %d before the clients (downstream connections %d -> %d)",
				n, baseFDs, downBefore, downAfter)
		}
		return nil
	})
}

// TestShutdownBoundedWithIdleClients guards bugs 4 and 6 of issue 10:
// after a zero-key gat SIGTERM never finished, and connections that never
// sent a byte held the exit for the whole drain timeout (5 s). Connections
// with nothing in flight must close at once, so moxi exits well within
// 1.5 s, with code 0.
func TestShutdownBoundedWithIdleClients(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t)
	proxy := startProxyEnv(t, []string{mc.Addr}, "binary", "", noRaceExitSleep())
	const gats, idle = 5, 20
	for range gats {
		c, err := net.DialTimeout("tcp", proxy.Addr, ioTimeout)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetWriteDeadline(time.Now().Add(ioTimeout))
		if _, err := io.WriteString(c, "gat 10\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	for range idle {
		c, err := net.DialTimeout("tcp", proxy.Addr, ioTimeout)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	// moxi has accepted all of them (plus the stats connection asking).
	eventually(t, 5*time.Second, func() error {
		got := statsOf(t, proxy.Addr, "stats proxy")["memcached:stats:curr_connections"]
		if got != strconv.Itoa(gats+idle+1) {
			return fmt.Errorf("curr_connections %s, want %d", got, gats+idle+1)
		}
		return nil
	})
	start := time.Now()
	proxy.Signal(t, syscall.SIGTERM)
	code, err := proxy.waitExit(1500 * time.Millisecond)
	if err != nil {
		t.Fatalf("%v (with %d idle connections and %d that sent \"gat 10\" and read nothing)", err, idle, gats)
	}
	t.Logf("moxi exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	if code != 0 {
		t.Errorf("exit code after SIGTERM %d, want 0", code)
	}
}

// stalledServer is a loopback listener that accepts connections and reads
// what they send but never answers. got is signalled on the first byte.
type stalledServer struct {
	ln  net.Listener
	got chan struct{}

	mu    sync.Mutex
	conns []net.Conn
}

func startStalledServer(t *testing.T) *stalledServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stalledServer{ln: ln, got: make(chan struct{}, 1)}
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			go func() {
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						select {
						case s.got <- struct{}{}:
						default:
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return s
}

// TestShutdownBoundedWithStalledServer guards bug 4 of issue 10 from the
// other side: SIGTERM must end moxi within the drain timeout (5 s, node's
// drainTimeout) plus a second whatever is in flight, here a get that a
// server which never answers holds with no downstream_timeout.
func TestShutdownBoundedWithStalledServer(t *testing.T) {
	t.Parallel()
	srv := startStalledServer(t)
	proxy := startProxyEnv(t, []string{srv.ln.Addr().String()}, "binary", "downstream_timeout=0", noRaceExitSleep())
	rc := dial(t, proxy.Addr)
	rc.send("get stalled\r\n")
	select {
	case <-srv.got:
	case <-time.After(5 * time.Second):
		t.Fatal("the get never reached the stalled server")
	}
	start := time.Now()
	proxy.Signal(t, syscall.SIGTERM)
	limit := moxiDrainTimeout + time.Second
	code, err := proxy.waitExit(limit)
	if err != nil {
		t.Fatalf("%v: want an exit within the drain timeout plus a second, %v", err, limit)
	}
	t.Logf("moxi exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	if code != 0 {
		t.Errorf("exit code after SIGTERM %d, want 0", code)
	}
}

// rssLimitKB is the bound on moxi's peak RSS (VmHWM) in
// TestPipelinedFloodMemoryBounded: 100 MB.
const rssLimitKB = 100 * 1024

// procStatusKB returns a "kB" field (VmRSS, VmHWM) of /proc/<pid>/status.
func procStatusKB(pid int, field string) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				return strconv.Atoi(f[0])
			}
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// nonRaceMoxi returns a moxi binary built without the race detector, whose
// memory use the test can bound: -race multiplies it. It is the suite's
// binary unless the tests run with -race; then it is built into a
// temporary directory. A binary named by MOXI_E2E_BINARY is used as it is.
func nonRaceMoxi(t *testing.T) string {
	t.Helper()
	bin := requireMoxi(t)
	if os.Getenv("MOXI_E2E_BINARY") != "" {
		t.Logf("using MOXI_E2E_BINARY=%s; the RSS bound assumes it is not built with -race", bin)
		return bin
	}
	if !raceEnabled {
		return bin
	}
	out := filepath.Join(t.TempDir(), "moxi")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/moxi")
	cmd.Dir = repoRoot
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/moxi without -race: %v\n%s", err, b)
	}
	return out
}

// bigValue is the 1,000,000-byte value of item i, distinct per item.
func bigValue(i int) []byte {
	const size = 1_000_000
	b := make([]byte, size)
	for j := range b {
		b[j] = byte('a' + (i+j)%26)
	}
	tag := fmt.Sprintf("<big-%02d>", i)
	copy(b, tag)
	copy(b[size-len(tag):], tag)
	return b
}

// TestPipelinedFloodMemoryBounded guards bug 5 of issue 10: moxi buffered
// replies without bound, so one client pipelining ten gets of forty 1 MB
// items without reading drove its RSS to ~740 MB. With backpressure
// (client_max_pending_bytes, default 4 MiB) moxi stops reading a client
// whose unsent replies exceed the budget. Its peak RSS must stay under
// 100 MB, and the client must still get every reply, complete and in order.
func TestPipelinedFloodMemoryBounded(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	bin := nonRaceMoxi(t)
	mc := startMemcached(t, "-m", "256")
	const items = 40
	values := make([][]byte, items)
	keys := make([]string, items)
	direct := dial(t, mc.Addr)
	for i := range items {
		keys[i] = fmt.Sprintf("big-%02d", i)
		values[i] = bigValue(i)
		direct.expect(fmt.Sprintf("set %s 0 0 %d\r\n%s\r\n", keys[i], len(values[i]), values[i]), "STORED\r\n")
	}
	direct.c.Close()
	getAll := "get " + strings.Join(keys, " ") + "\r\n"

	for _, gets := range []int{10, 30} {
		t.Run(fmt.Sprintf("%dgets", gets), func(t *testing.T) {
			proxy := launch(t, "moxi", bin, func(port int) []string {
				return []string{"-l", "127.0.0.1", "-z", fmt.Sprintf("%d=%s", port, mc.Addr)}
			})
			pid := proxy.cmd.Process.Pid
			startKB, err := procStatusKB(pid, "VmHWM")
			if err != nil {
				t.Fatal(err)
			}
			c, err := net.DialTimeout("tcp", proxy.Addr, ioTimeout)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetWriteDeadline(time.Now().Add(ioTimeout))
			if _, err := io.WriteString(c, strings.Repeat(getAll, gets)); err != nil {
				t.Fatalf("write %d gets: %v", gets, err)
			}

			// Read nothing; watch moxi's peak RSS for up to 3 s, or
			// until it has not moved for a second.
			var peak int
			begin, lastMove := time.Now(), time.Now()
			for time.Since(begin) < 3*time.Second {
				kb, err := procStatusKB(pid, "VmHWM")
				if err != nil {
					t.Fatal(err)
				}
				if kb > peak {
					peak, lastMove = kb, time.Now()
				}
				if time.Since(begin) > 1500*time.Millisecond && time.Since(lastMove) > time.Second {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("%d pipelined gets of %d x 1 MB, unread: moxi VmHWM %d kB (%d kB at start)", gets, items, peak, startKB)
			if peak >= rssLimitKB {
				t.Errorf("moxi's peak RSS %d kB with a client not reading %d gets of %d MB; want under %d kB",
					peak, gets, items, rssLimitKB)
			}

			// Backpressure must lose nothing: every reply, whole, in order.
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			r := bufio.NewReaderSize(c, 1<<20)
			buf := make([]byte, len(values[0])+2)
			for g := range gets {
				for i := range items {
					line, err := r.ReadString('\n')
					if err != nil {
						t.Fatalf("get %d, item %d: %v (got %q)", g+1, i, err, line)
					}
					if want := fmt.Sprintf("VALUE %s 0 %d\r\n", keys[i], len(values[i])); line != want {
						t.Fatalf("get %d, item %d: header %q, want %q", g+1, i, abbrev(line), want)
					}
					if _, err := io.ReadFull(r, buf); err != nil {
						t.Fatalf("get %d, %s: value: %v", g+1, keys[i], err)
					}
					if !bytes.Equal(buf[:len(values[i])], values[i]) || string(buf[len(values[i]):]) != "\r\n" {
						t.Fatalf("get %d, %s: value differs from the one stored", g+1, keys[i])
					}
				}
				if line, err := r.ReadString('\n'); err != nil || line != "END\r\n" {
					t.Fatalf("get %d: end %q, %v; want END", g+1, abbrev(line), err)
				}
			}
			if kb, err := procStatusKB(pid, "VmHWM"); err == nil {
				t.Logf("moxi VmHWM after the client read everything: %d kB", kb)
				if kb >= rssLimitKB && peak < rssLimitKB {
					t.Errorf("moxi's peak RSS reached %d kB while the client read; want under %d kB", kb, rssLimitKB)
				}
			}
			// Nothing more is pending for this client.
			_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if b, err := r.ReadByte(); err == nil {
				t.Fatalf("byte %q after the last reply", b)
			} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				t.Fatalf("after the last reply: %v", err)
			}
			c.Close()

			rc := dial(t, proxy.Addr)
			expectWithin(t, rc, hostileReplyTimeout, "set after-flood 0 0 2\r\nok\r\n", "STORED\r\n")
			expectWithin(t, rc, hostileReplyTimeout, "get after-flood\r\n", "VALUE after-flood 0 2\r\nok\r\nEND\r\n")
			got := rc.call("get " + keys[7] + "\r\n")
			if want := fmt.Sprintf("VALUE %s 0 %d\r\n%s\r\nEND\r\n", keys[7], len(values[7]), values[7]); got != want {
				t.Errorf("get %s after the flood: %q", keys[7], abbrev(got))
			}
		})
	}
}
