package proxycore

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// valueServer is a text memcached that answers every get: keys starting
// with "big" with bigSize bytes, others with 100. gets counts the get
// lines it has read; until hold is closed it answers none of the big ones.
type valueServer struct {
	addr    string
	bigSize int
	gets    atomic.Int64
	hold    chan struct{}
}

func startValueServer(t *testing.T, bigSize int, held bool) *valueServer {
	vs := &valueServer{bigSize: bigSize, hold: make(chan struct{})}
	if !held {
		close(vs.hold)
	}
	vs.addr = fakeServer(t, vs.serve)
	return vs
}

// serve counts get lines as they arrive, on a goroutine of their own, so
// that lines keep being counted while big ones wait for hold.
func (vs *valueServer) serve(c net.Conn) {
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			vs.gets.Add(1)
			lines <- line
		}
	}()
	w := bufio.NewWriter(c)
	for line := range lines {
		keys := strings.Fields(line)[1:]
		if strings.HasPrefix(keys[0], "big") {
			<-vs.hold
		}
		for _, k := range keys {
			n := 100
			if strings.HasPrefix(k, "big") {
				n = vs.bigSize
			}
			fmt.Fprintf(w, "VALUE %s 0 %d\r\n%s\r\n", k, n, strings.Repeat("v", n))
		}
		_, _ = w.WriteString("END\r\n")
		if len(lines) == 0 && w.Flush() != nil {
			return
		}
	}
}

// bigGet is a get of ten big keys.
const bigGet = "get big0 big1 big2 big3 big4 big5 big6 big7 big8 big9\r\n"

// TestBudgetStopsReadingUnreadClient: a client that pipelines twenty
// 2 MB gets and reads nothing gets only a few of them sent to the server:
// a fresh client's estimate is the largest item per key, over the 1 MB
// budget, so a get goes only with nothing else outstanding, and a reply
// the kernel cannot take then holds the budget. (Without the budget all
// twenty go at once.) Once the client reads, every reply arrives whole
// and in order.
func TestBudgetStopsReadingUnreadClient(t *testing.T) {
	const size, reply = 200 << 10, 10 * (200 << 10)
	vs := startValueServer(t, size, false)
	p := startProxy(t, []string{vs.addr}, func(b *Behavior) { b.ClientMaxPendingBytes = 1 << 20 })
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.(*net.TCPConn).SetReadBuffer(16 << 10)
	if _, err := io.WriteString(c, strings.Repeat(bigGet, 20)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the first get reaches the server", func() bool { return vs.gets.Load() >= 1 })
	time.Sleep(300 * time.Millisecond) // the condition under test: no more are sent
	// The kernel takes up to the socket's send buffer from moxi: those
	// replies count as read. Then one reply is held and none in flight.
	allowed := int64(kernelSendBufferMax()/reply + 2)
	if n := vs.gets.Load(); n > allowed {
		t.Fatalf("server got %d gets while the client read nothing, want at most %d", n, allowed)
	}
	readBigReplies(t, c, 20, size)
	if n := vs.gets.Load(); n != 20 {
		t.Fatalf("server got %d gets, want 20", n)
	}
}

// kernelSendBufferMax is the most a TCP socket's send buffer grows to
// (tcp_wmem's maximum), 4 MiB when it cannot be read.
func kernelSendBufferMax() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem")
	if f := strings.Fields(string(b)); err == nil && len(f) == 3 {
		if n, err := strconv.Atoi(f[2]); err == nil {
			return n
		}
	}
	return 4 << 20
}

// readBigReplies reads n replies to bigGet, checking every block.
func readBigReplies(t *testing.T, c net.Conn, n, size int) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReaderSize(c, 64<<10)
	for i := 0; i < n; i++ {
		for k := 0; k < 10; k++ {
			want := fmt.Sprintf("VALUE big%d 0 %d\r\n", k, size)
			if line, err := r.ReadString('\n'); line != want {
				t.Fatalf("reply %d: got %q (%v), want %q", i, line, err, want)
			}
			if _, err := r.Discard(size + 2); err != nil {
				t.Fatalf("reply %d: %v", i, err)
			}
		}
		if line, err := r.ReadString('\n'); line != "END\r\n" {
			t.Fatalf("reply %d: got %q (%v), want END", i, line, err)
		}
	}
}

// TestBudgetOverflowClosesClient: a client that first reads small values
// (so its estimate is small) and then pipelines ten 2 MB gets without
// reading can get them all sent; when the replies held for it pass four
// times its 64 KiB budget it is closed and counted, and the proxy serves
// the next client.
func TestBudgetOverflowClosesClient(t *testing.T) {
	vs := startValueServer(t, 200<<10, true)
	p := startProxy(t, []string{vs.addr}, func(b *Behavior) { b.ClientMaxPendingBytes = 64 << 10 })
	c := dial(t, p.addr)
	for i := 0; i < 30; i++ {
		c.send("get small\r\n")
		c.expect("VALUE small 0 100\r\n" + strings.Repeat("v", 100) + "\r\nEND\r\n")
	}
	_ = c.c.(*net.TCPConn).SetReadBuffer(16 << 10)
	c.send(strings.Repeat(bigGet, 10))
	waitUntil(t, "all ten gets reach the server", func() bool { return vs.gets.Load() == 40 })
	close(vs.hold)
	waitUntil(t, "the client is closed for overflow", func() bool {
		return onlyBucket(p).stats.get(totClientOverflow) == 1
	})
	_ = c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, c.c)
	if isTimeout(err) || n >= 10*10*(200<<10) {
		t.Fatalf("read %d bytes, err %v: want the connection closed early", n, err)
	}
	d := dial(t, p.addr)
	d.send("get small\r\n")
	d.expect("VALUE small 0 100\r\n" + strings.Repeat("v", 100) + "\r\nEND\r\n")
}

// TestBlockClass: every size gets the smallest class that holds it, two
// classes per power of two, and past the largest class none.
func TestBlockClass(t *testing.T) {
	for _, tc := range []struct{ n, class, size int }{
		{1, 0, 32 << 10}, {32 << 10, 0, 32 << 10}, {32<<10 + 1, 1, 48 << 10},
		{48 << 10, 1, 48 << 10}, {48<<10 + 1, 2, 64 << 10}, {1_000_053, 10, 1 << 20},
		{1<<20 + 1, 11, 3 << 19}, {64 << 20, 22, 64 << 20}, {64<<20 + 1, 23, 96 << 20},
	} {
		class, size, ok := blockClass(tc.n)
		if class != tc.class || size != tc.size || ok != (tc.class < blockClasses) {
			t.Errorf("blockClass(%d) = %d, %d, %v; want %d, %d", tc.n, class, size, ok, tc.class, tc.size)
		}
	}
}
