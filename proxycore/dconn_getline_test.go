package proxycore

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lineServer is a text server that records how many keys each get line
// carried and answers every key starting with "hit" with its own name as
// the value; other keys miss.
type lineServer struct {
	addr    string
	maxKeys atomic.Int32
}

func startLineServer(t *testing.T) *lineServer {
	s := &lineServer{}
	s.addr = fakeServer(t, s.serve)
	return s
}

func (s *lineServer) serve(c net.Conn) {
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		keys := strings.Fields(line)[1:]
		if n := int32(len(keys)); n > s.maxKeys.Load() {
			s.maxKeys.Store(n)
		}
		for _, k := range keys {
			if strings.HasPrefix(k, "hit") {
				fmt.Fprintf(w, "VALUE %s 0 %d\r\n%s\r\n", k, len(k), k)
			}
		}
		w.WriteString("END\r\n")
		if r.Buffered() == 0 && w.Flush() != nil {
			return
		}
	}
}

// TestSharedGetLine: concurrent one-key gets to a text server share get
// lines, and every client still gets exactly its own key's answer: hits,
// misses, and a key several clients ask for at once.
func TestSharedGetLine(t *testing.T) {
	s := startLineServer(t)
	p := startProxy(t, []string{s.addr}, func(b *Behavior) { b.DownstreamProtocol = "ascii" })
	keys := []string{"hit1", "miss1", "hit2", "hit1", "miss2", "hit3"}
	deadline := time.Now().Add(10 * time.Second)
	for round := 0; s.maxKeys.Load() < 2; round++ {
		if time.Now().After(deadline) {
			t.Fatalf("no get line carried more than one key after %d rounds", round)
		}
		concurrentClients(t, p.addr, 20, func(c *client, i int) error {
			for j := 0; j < 20; j++ {
				k := keys[(i+j)%len(keys)]
				want := "END\r\n"
				if strings.HasPrefix(k, "hit") {
					want = fmt.Sprintf("VALUE %s 0 %d\r\n%s\r\nEND\r\n", k, len(k), k)
				}
				if err := c.exchange("get "+k+"\r\n", want); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// TestSharedGetLineRealMemcached: the same through real memcached, with
// sets interleaved, so values, misses and repeated keys come back right.
func TestSharedGetLineRealMemcached(t *testing.T) {
	addrs := servers(t, 1)
	p := startProxy(t, addrs, func(b *Behavior) { b.DownstreamProtocol = "ascii" })
	concurrentClients(t, p.addr, 16, func(c *client, i int) error {
		own := fmt.Sprintf("own%d", i)
		for j := 0; j < 50; j++ {
			v := fmt.Sprintf("v%d", j)
			steps := [][2]string{
				{fmt.Sprintf("set %s 0 0 %d\r\n%s\r\n", own, len(v), v), "STORED\r\n"},
				{"get " + own + "\r\n", fmt.Sprintf("VALUE %s 0 %d\r\n%s\r\nEND\r\n", own, len(v), v)},
				{fmt.Sprintf("get nosuch%d\r\n", j%3), "END\r\n"},
			}
			for _, st := range steps {
				if err := c.exchange(st[0], st[1]); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// concurrentClients runs n clients of addr at once and fails the test
// with each one's error.
func concurrentClients(t *testing.T, addr string, n int, run func(c *client, i int) error) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		c := dial(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.c.Close()
			errs[i] = run(c, i)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("client %d: %v", i, err)
		}
	}
}
