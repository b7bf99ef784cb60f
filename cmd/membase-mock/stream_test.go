package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawStream is a streaming GET read off the socket, so the chunk layout
// itself can be checked.
type rawStream struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

// openRawStream sends the request and checks the response head.
func openRawStream(t *testing.T, m *mock, path string) *rawStream {
	t.Helper()
	c, err := net.Dial("tcp", m.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, m.ln.Addr())
	s := &rawStream{t: t, c: c, br: bufio.NewReader(c)}
	status := s.line()
	head := map[string]string{}
	for l := s.line(); l != ""; l = s.line() {
		k, v, _ := strings.Cut(l, ": ")
		head[strings.ToLower(k)] = v
	}
	if status != "HTTP/1.1 200 OK" || head["transfer-encoding"] != "chunked" ||
		head["content-type"] != "application/json; charset=utf-8" {
		t.Fatalf("response head %q %v", status, head)
	}
	return s
}

func (s *rawStream) line() string {
	s.t.Helper()
	l, err := s.br.ReadString('\n')
	if err != nil || !strings.HasSuffix(l, "\r\n") {
		s.t.Fatalf("read line: %q %v", l, err)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// chunk reads one HTTP chunk: hex size line, data, CRLF.
func (s *rawStream) chunk() []byte {
	s.t.Helper()
	n, err := strconv.ParseInt(s.line(), 16, 32)
	if err != nil {
		s.t.Fatalf("chunk size: %v", err)
	}
	data := make([]byte, n+2)
	if _, err := io.ReadFull(s.br, data); err != nil || string(data[n:]) != "\r\n" {
		s.t.Fatalf("chunk of %d bytes: %v (ends %q)", n, err, data[max(0, n-8):])
	}
	return data[:n]
}

// config reads one config: a chunk of JSON, then the delimiter chunk.
func (s *rawStream) config() *testBucket {
	s.t.Helper()
	b := parseBucket(s.t, s.chunk())
	if d := s.chunk(); string(d) != "\n\n\n\n" {
		s.t.Fatalf("chunk after the config: %q, want the delimiter on its own", d)
	}
	return b
}

// TestStreamingFraming reads bucketsStreamingConfig off the wire: one
// chunk with the config, one chunk with "\n\n\n\n", and a new pair when a
// rebalance changes the map, through to the final map. A small config
// (under net/http's 2 KiB buffer) and a large one take different paths
// through the response writer; both must stay one chunk.
func TestStreamingFraming(t *testing.T) {
	for _, nvb := range []int{4, 1024} {
		t.Run(fmt.Sprint(nvb), func(t *testing.T) {
			m := startMock(t, "-nodes", "2", "-vbuckets", fmt.Sprint(nvb), "-rebalance-step", "20ms",
				"-rebalance-batch", fmt.Sprint(nvb/2))
			s := openRawStream(t, m, "/pools/default/bucketsStreamingConfig/default")
			first := s.config()
			m.cl.mu.Lock()
			nodes := m.cl.serverAddrsLocked()
			m.cl.mu.Unlock()
			vbm := first.VBucketServerMap
			if len(vbm.VBucketMap) != nvb || !slices.Equal(vbm.ServerList, nodes) || vbm.VBucketMapForward != nil ||
				vbm.HashAlgorithm != "CRC" || first.NodeLocator != "vbucket" || first.Name != "default" {
				t.Fatalf("first config: %d vbuckets, servers %v (want %v), forward %v",
					len(vbm.VBucketMap), vbm.ServerList, nodes, vbm.VBucketMapForward)
			}
			admin(t, m, "/mock/rebalance?nodes=3", http.StatusAccepted)
			next := s.config()
			if len(next.VBucketServerMap.ServerList) != 3 || len(next.VBucketServerMap.VBucketMapForward) != nvb {
				t.Fatalf("config after the rebalance started: servers %v, forward map of %d rows",
					next.VBucketServerMap.ServerList, len(next.VBucketServerMap.VBucketMapForward))
			}
			for next.VBucketServerMap.VBucketMapForward != nil {
				next = s.config()
			}
			if got := len(next.VBucketServerMap.ServerList); got != 3 {
				t.Fatalf("final config has %d servers, want 3", got)
			}
		})
	}
}

// TestStreamCounters checks streams_open follows clients coming and going
// and streams_total and config_requests count them.
func TestStreamCounters(t *testing.T) {
	m := startMock(t, "-nodes", "1", "-vbuckets", "8")
	before := mockStats(t, m)
	var bodies []io.Closer
	for _, path := range []string{"bucketsStreaming/default", "bucketsStreamingConfig/default"} {
		resp, err := http.Get(m.restURL() + "/pools/default/" + path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (&configReader{br: bufio.NewReader(resp.Body)}).next(); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		bodies = append(bodies, resp.Body)
	}
	fetchBucket(t, m, "default")
	// The mock counts a config once its write has returned, which can be
	// just after the client read it: wait for the counts, with a deadline.
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := mockStats(t, m)
		if st.StreamsOpen == 2 && st.StreamsTotal == before.StreamsTotal+2 &&
			st.ConfigRequests == before.ConfigRequests+3 && st.ConfigsSent == before.ConfigsSent+2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats with two streams open: %+v (before %+v)", st, before)
		}
		time.Sleep(5 * time.Millisecond) // poll interval, bounded by deadline
	}
	for _, b := range bodies {
		_ = b.Close()
	}
	eventually(t, "streams_open back to 0", func() bool { return mockStats(t, m).StreamsOpen == 0 })
}
