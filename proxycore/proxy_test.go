package proxycore

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/proxytest"
)

// TestMultiGetOrderAcrossServers stores keys through the proxy, checks
// they really spread over four servers, and reads them back in one get
// with duplicates and misses: values come in the client's key order.
func TestMultiGetOrderAcrossServers(t *testing.T) { bothProtocols(t, testMultiGetOrderAcrossServers) }

func testMultiGetOrderAcrossServers(t *testing.T, proto func(*Behavior)) {
	addrs := servers(t, 4)
	p := startProxy(t, addrs, proto)
	c := dial(t, p.addr)
	const n = 100
	for i := 0; i < n; i++ {
		c.send(fmt.Sprintf("set key%d 0 0 %d\r\nval%d\r\n", i, len(fmt.Sprint(i))+3, i))
	}
	for i := 0; i < n; i++ {
		c.expect("STORED\r\n")
	}
	perServer := make([]int, len(addrs))
	for si, a := range addrs {
		d := dial(t, a)
		for i := 0; i < n; i++ {
			d.send(fmt.Sprintf("mg key%d\r\n", i))
			if d.line() == "HD\r\n" {
				perServer[si]++
			}
		}
	}
	total := 0
	for si, k := range perServer {
		if k == 0 {
			t.Errorf("server %d holds no keys: %v", si, perServer)
		}
		total += k
	}
	if total != n {
		t.Fatalf("keys found on servers = %d, want %d (each key on exactly one)", total, n)
	}
	var req, want strings.Builder
	req.WriteString("get")
	for i := n - 1; i >= 0; i-- {
		fmt.Fprintf(&req, " key%d nosuch%d key%d", i, i, i)
		v := fmt.Sprintf("val%d", i)
		fmt.Fprintf(&want, "VALUE key%d 0 %d\r\n%s\r\nVALUE key%d 0 %d\r\n%s\r\n", i, len(v), v, i, len(v), v)
	}
	c.send(req.String() + "\r\n")
	c.expect(want.String() + "END\r\n")
}

// TestTenThousandKeyGet sends one get of 10,000 keys over four servers.
func TestTenThousandKeyGet(t *testing.T) { bothProtocols(t, testTenThousandKeyGet) }

func testTenThousandKeyGet(t *testing.T, proto func(*Behavior)) {
	addrs := servers(t, 4)
	p := startProxy(t, addrs, proto)
	c := dial(t, p.addr)
	const n = 10000
	var sets strings.Builder
	for i := 0; i < n; i += 2 { // every other key exists
		fmt.Fprintf(&sets, "set k%05d 0 0 5 noreply\r\n%05d\r\n", i, i)
	}
	c.send(sets.String())
	var req, want strings.Builder
	req.WriteString("get")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&req, " k%05d", i)
		if i%2 == 0 {
			fmt.Fprintf(&want, "VALUE k%05d 0 5\r\n%05d\r\n", i, i)
		}
	}
	c.send(req.String() + "\r\n")
	c.expect(want.String() + "END\r\n")
}

// TestPipelining writes 1,000 mixed requests in one write before reading.
func TestPipelining(t *testing.T) { bothProtocols(t, testPipelining) }

func testPipelining(t *testing.T, proto func(*Behavior)) {
	addrs := servers(t, 3)
	p := startProxy(t, addrs, proto)
	c := dial(t, p.addr)
	var req, want strings.Builder
	for i := 0; i < 250; i++ {
		fmt.Fprintf(&req, "set p%d 0 0 4\r\nv%03d\r\nget p%d\r\nincr p%d 1\r\ndelete p%d\r\n", i, i, i, i, i)
		fmt.Fprintf(&want, "STORED\r\nVALUE p%d 0 4\r\nv%03d\r\nEND\r\n", i, i)
		want.WriteString("CLIENT_ERROR cannot increment or decrement non-numeric value\r\nDELETED\r\n")
	}
	c.send(req.String())
	c.expect(want.String())
}

// TestLargeValue passes a value at the 1 MiB item limit through intact.
func TestLargeValue(t *testing.T) { bothProtocols(t, testLargeValue) }

func testLargeValue(t *testing.T, proto func(*Behavior)) {
	addrs := servers(t, 2)
	p := startProxy(t, addrs, proto)
	c := dial(t, p.addr)
	v := strings.Repeat("0123456789abcdef", (1<<20-512)/16)
	c.send(fmt.Sprintf("set big 0 0 %d\r\n%s\r\nget big\r\n", len(v), v))
	c.expect(fmt.Sprintf("STORED\r\nVALUE big 0 %d\r\n%s\r\nEND\r\n", len(v), v))
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	// A TCP socket bound to a port but not listening: connecting to it is
	// refused, and the port stays ours until the test ends. (A closed
	// listener's port could be taken meanwhile by another test of a
	// parallel package, which would then answer, or refuse, in its place.)
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
}

// keyOn finds a key that the proxy's map puts on server index want.
func keyOn(t *testing.T, p *testProxy, want int, prefix string) string {
	for _, b := range p.srv.allBuckets() {
		rt := b.routing()
		for i := 0; i < 10000; i++ {
			k := fmt.Sprintf("%s%d", prefix, i)
			if rt.m.Locate([]byte(k)) == want {
				return k
			}
		}
	}
	t.Fatalf("no key maps to server %d", want)
	return ""
}

// TestDeadServer: keys of a server that refuses connections fail with
// moxi's write error (gets read as misses); the other server's keys work.
func TestDeadServer(t *testing.T) { bothProtocols(t, testDeadServer) }

func testDeadServer(t *testing.T, proto func(*Behavior)) {
	addrs := servers(t, 1)
	addrs = append(addrs, deadAddr(t))
	p := startProxy(t, addrs, proto)
	live, dead := keyOn(t, p, 0, "live"), keyOn(t, p, 1, "dead")
	c := dial(t, p.addr)
	c.send("set " + live + " 0 0 1\r\nx\r\n")
	c.expect("STORED\r\n")
	c.send("set " + dead + " 0 0 1\r\nx\r\n")
	c.expect("SERVER_ERROR proxy write to downstream 127.0.0.1\r\n")
	c.send("get " + dead + "\r\n")
	c.expect("END\r\n")
	c.send("get " + dead + " " + live + "\r\n")
	c.expect("VALUE " + live + " 0 1\r\nx\r\nEND\r\n")
}

// TestStalledServer: a SIGSTOPped server costs its keys a timeout error
// within downstream_timeout; the other server keeps answering.
func TestStalledServer(t *testing.T) { bothProtocols(t, testStalledServer) }

func testStalledServer(t *testing.T, proto func(*Behavior)) {
	ms, addrs := memcacheds(t, 2)
	p := startProxy(t, addrs, func(b *Behavior) { proto(b); b.DownstreamTimeout = 300 * time.Millisecond })
	live, stalled := keyOn(t, p, 0, "live"), keyOn(t, p, 1, "stall")
	c := dial(t, p.addr)
	c.send("set " + live + " 0 0 1\r\nx\r\nset " + stalled + " 0 0 1\r\ny\r\n")
	c.expect("STORED\r\nSTORED\r\n")
	ms[1].Pause(t)
	defer ms[1].Resume()
	start := time.Now()
	c.send("set " + stalled + " 0 0 1\r\nz\r\n")
	c.expect("SERVER_ERROR proxy downstream timeout 127.0.0.1\r\n")
	c.send("get " + stalled + " " + live + "\r\n")
	c.expect("VALUE " + live + " 0 1\r\nx\r\nEND\r\n")
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("stalled server held the client %v", d)
	}
	c.send("get " + live + "\r\n")
	c.expect("VALUE " + live + " 0 1\r\nx\r\nEND\r\n")
}

// TestBlacklist: after more than connect_max_errors failures the server is
// not dialled again until connect_retry_interval passes.
func TestBlacklist(t *testing.T) {
	dead := deadAddr(t)
	p := startProxy(t, []string{dead}, func(b *Behavior) {
		b.ConnectMaxErrors = 1
		b.ConnectRetryInterval = time.Hour
	})
	c := dial(t, p.addr)
	for i := 0; i < 5; i++ {
		c.send("delete k\r\n")
		c.expect("SERVER_ERROR proxy write to downstream 127.0.0.1\r\n")
	}
	b := onlyBucket(p)
	started := b.stats.get(totDownstreamConnectStarted)
	if started != 2 {
		t.Fatalf("connect attempts = %d, want 2 (blacklisted after the second failure)", started)
	}
	if got := b.stats.get(totDownstreamConnectInterval); got != 3 {
		t.Fatalf("tot_downstream_connect_interval = %d, want 3", got)
	}
}

// TestServerRestartRetries: a server restarted under the proxy leaves
// dead pooled connections; the next request is retried on a fresh one.
func TestServerRestartRetries(t *testing.T) { bothProtocols(t, testServerRestartRetries) }

func testServerRestartRetries(t *testing.T, proto func(*Behavior)) {
	ms, addrs := memcacheds(t, 1)
	p := startProxy(t, addrs, proto)
	c := dial(t, p.addr)
	for i := 0; i < 8; i++ { // open every pooled connection
		c.send("set a 0 0 1\r\nx\r\n")
		c.expect("STORED\r\n")
	}
	ms[0].Stop()
	proxytest.StartMemcachedOnPort(t, pkgName, ms[0].Port)
	for i := 0; i < 8; i++ {
		c.send("set a 0 0 1\r\ny\r\n")
		c.expect("STORED\r\n")
	}
}

// TestWaitQueueTimeout: with downstream_max requests in flight, the next
// one waits wait_queue_timeout and then gets moxi's error.
func TestWaitQueueTimeout(t *testing.T) {
	ms, addrs := memcacheds(t, 1)
	p := startProxy(t, addrs, func(b *Behavior) {
		b.DownstreamMax = 1
		b.WaitQueueTimeout = 100 * time.Millisecond
		b.DownstreamTimeout = 2 * time.Second
	})
	ms[0].Pause(t)
	defer ms[0].Resume()
	holder := dial(t, p.addr)
	holder.send("get held\r\n") // occupies the only token while stalled
	b := onlyBucket(p)
	waitUntil(t, "the holder's request takes the token", func() bool { return len(b.sem) > 0 })
	waiter := dial(t, p.addr)
	start := time.Now()
	waiter.send("get other\r\n")
	waiter.expect("SERVER_ERROR proxy wait queue timeout\r\n")
	if d := time.Since(start); d < 100*time.Millisecond || d > time.Second {
		t.Fatalf("wait queue timeout after %v, want about 100ms", d)
	}
	ms[0].Resume()
	holder.expect("END\r\n")
}

func onlyBucket(p *testProxy) *bucket {
	for _, b := range p.srv.allBuckets() {
		return b
	}
	return nil
}

func TestConnSlots(t *testing.T) {
	tests := []struct{ connMax, cores, want int }{
		{4, 2, 1}, {4, 1, 1}, {4, 8, 4}, {4, 32, 4}, {2, 16, 2}, {0, 16, 8}, {0, 1, 1}, {1, 64, 1},
	}
	for _, tc := range tests {
		if got := connSlots(tc.connMax, tc.cores); got != tc.want {
			t.Errorf("connSlots(%d, %d) = %d, want %d", tc.connMax, tc.cores, got, tc.want)
		}
	}
}

// TestConnectionGauge: num_downstream_conn counts open server connections
// while they are open, not just while they connect.
func TestConnectionGauge(t *testing.T) {
	ms, addrs := memcacheds(t, 1)
	p := startProxy(t, addrs, nil)
	c := dial(t, p.addr)
	c.send("set g 0 0 1\r\nx\r\n")
	c.expect("STORED\r\n")
	b := onlyBucket(p)
	if n := b.stats.get(numDownstreamConn); n != 1 {
		t.Fatalf("num_downstream_conn = %d with one connection open, want 1", n)
	}
	ms[0].Stop()
	waitUntil(t, "num_downstream_conn drops to 0 after the server died", func() bool {
		return b.stats.get(numDownstreamConn) == 0
	})
}

// TestShutdownDrains: a request in flight when Shutdown starts still gets
// its reply, and Shutdown returns once it has.
func TestShutdownDrains(t *testing.T) {
	ms, addrs := memcacheds(t, 1)
	p := startProxy(t, addrs, nil)
	c := dial(t, p.addr)
	c.send("set d 0 0 1\r\nx\r\n")
	c.expect("STORED\r\n")
	ms[0].Pause(t)
	c.send("get d\r\n")
	b := onlyBucket(p)
	waitUntil(t, "the get goes out", func() bool { return len(b.sem) > 0 })
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- p.srv.Shutdown(ctx)
	}()
	waitUntil(t, "Shutdown stops accepting", func() bool {
		conn, err := net.DialTimeout("tcp", p.addr, 100*time.Millisecond)
		if err != nil {
			return true
		}
		conn.Close()
		return false
	})
	ms[0].Resume()
	c.expect("VALUE d 0 1\r\nx\r\nEND\r\n")
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v, want a clean drain", err)
	}
}
