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
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				c := dial(t, p.addr)
				defer c.c.Close()
				for j := 0; j < 20; j++ {
					k := keys[(i+j)%len(keys)]
					c.send("get " + k + "\r\n")
					if strings.HasPrefix(k, "hit") {
						c.expect(fmt.Sprintf("VALUE %s 0 %d\r\n%s\r\nEND\r\n", k, len(k), k))
					} else {
						c.expect("END\r\n")
					}
				}
			}(i)
		}
		wg.Wait()
	}
}

// TestSharedGetLineRealMemcached: the same through real memcached, with
// sets interleaved, so values, misses and repeated keys come back right.
func TestSharedGetLineRealMemcached(t *testing.T) {
	_, addrs := memcacheds(t, 1)
	p := startProxy(t, addrs, func(b *Behavior) { b.DownstreamProtocol = "ascii" })
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := dial(t, p.addr)
			defer c.c.Close()
			own := fmt.Sprintf("own%d", i)
			for j := 0; j < 50; j++ {
				v := fmt.Sprintf("v%d", j)
				c.send("set " + own + " 0 0 " + fmt.Sprint(len(v)) + "\r\n" + v + "\r\n")
				c.expect("STORED\r\n")
				c.send("get " + own + "\r\n")
				c.expect(fmt.Sprintf("VALUE %s 0 %d\r\n%s\r\nEND\r\n", own, len(v), v))
				c.send("get nosuch" + fmt.Sprint(j%3) + "\r\n")
				c.expect("END\r\n")
			}
		}(i)
	}
	wg.Wait()
}
