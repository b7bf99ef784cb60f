package e2e

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

// failoverClient is a memcached client of a fleet as an application
// behind a load balancer sees it: one gomemcache client per node, and an
// operation a node cannot serve (its connection refused or reset while
// it restarts) is retried on the next node. Every node proxies the same
// servers, so the retry reads and writes the same item.
type failoverClient struct{ nodes []*memcache.Client }

func newFailoverClient(ips []string) *failoverClient {
	f := &failoverClient{}
	for _, ip := range ips {
		c := memcache.New(ip + ":11211")
		c.Timeout = 2 * time.Second
		f.nodes = append(f.nodes, c)
	}
	return f
}

func (f *failoverClient) node(i int) *memcache.Client { return f.nodes[i] }

func mcItem(key, val string) *memcache.Item { return &memcache.Item{Key: key, Value: []byte(val)} }

// do runs op on node first, then on the others in turn; it returns how
// many nodes failed before one served it, and the last error if none did.
// A miss is an answer, not a node failure: the caller judges it.
func (f *failoverClient) do(first int, op func(*memcache.Client) error) (int, error) {
	var err error
	for k := range f.nodes {
		err = op(f.nodes[(first+k)%len(f.nodes)])
		if err == nil || err == memcache.ErrCacheMiss {
			return k, err
		}
	}
	return len(f.nodes), err
}

// loadStats counts a load's operations: lost ones no node served, wrong
// ones read back missing or with another value; failovers are the
// retries on another node, expected while a node restarts.
type loadStats struct {
	ops, lost, wrong, failovers int64
	firstErrs                   []string
}

func (s *loadStats) String() string {
	return fmt.Sprintf("%d ops, %d lost, %d wrong, %d failovers %v", s.ops, s.lost, s.wrong, s.failovers, s.firstErrs)
}

type failoverLoad struct {
	stopCh chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	st     loadStats
}

// startLoad runs a client per node, each setting a key through its node
// and reading it back through the next, until stop.
func (f *failoverClient) startLoad(t *testing.T) *failoverLoad {
	l := &failoverLoad{stopCh: make(chan struct{})}
	t.Cleanup(func() { l.stop() }) // a test that fails midway still stops it
	for w := range f.nodes {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for seq := 0; ; seq++ {
				select {
				case <-l.stopCh:
					return
				default:
				}
				key, val := fmt.Sprintf("load-%d-%d", w, seq%500), fmt.Sprintf("v%d", seq)
				hops, err := f.do(w, func(c *memcache.Client) error { return c.Set(mcItem(key, val)) })
				l.count(hops, err, nil)
				if err != nil {
					continue
				}
				var got *memcache.Item
				hops, err = f.do(w+1, func(c *memcache.Client) error { var e error; got, e = c.Get(key); return e })
				var wrong error
				if err == memcache.ErrCacheMiss || (err == nil && string(got.Value) != val) {
					wrong, err = fmt.Errorf("get %s after set %q: %v %v", key, val, got, err), nil
				}
				l.count(hops, err, wrong)
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	return l
}

func (l *failoverLoad) count(hops int, lost, wrong error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.st.ops++
	if lost != nil {
		l.st.lost++
		hops--
	}
	l.st.failovers += int64(hops)
	for _, e := range []error{lost, wrong} {
		if e != nil && len(l.st.firstErrs) < 5 {
			l.st.firstErrs = append(l.st.firstErrs, e.Error())
		}
	}
	if wrong != nil {
		l.st.wrong++
	}
}

// stop ends the load (once) and returns its counts.
func (l *failoverLoad) stop() *loadStats {
	l.mu.Lock()
	select {
	case <-l.stopCh:
	default:
		close(l.stopCh)
	}
	l.mu.Unlock()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.st
	return &st
}

// proxyVersion asks a proxy port "version": the running moxi's own
// answer, which a binary replaced on disk but not restarted would not
// change.
func proxyVersion(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := c.Write([]byte("version\r\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	v, ok := strings.CutPrefix(strings.TrimSpace(line), "VERSION ")
	if !ok {
		return "", fmt.Errorf("version: %q", line)
	}
	return v, nil
}
