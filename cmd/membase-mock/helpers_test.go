package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/binproto"
)

// startMock runs a mock in this process on loopback ports with a free
// REST port; args are command-line flags.
func startMock(t *testing.T, args ...string) *mock {
	t.Helper()
	cfg, err := parseFlags(append([]string{"-rest", "127.0.0.1:0"}, args...), io.Discard)
	if err != nil {
		t.Fatalf("flags %q: %v", args, err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	m, err := newMock(cfg, log)
	if err != nil {
		t.Fatalf("start mock: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- m.serve() }()
	t.Cleanup(func() {
		m.close()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return m
}

// testBucket is the part of a bucket config the tests look at.
type testBucket struct {
	Name         string `json:"name"`
	SaslPassword string `json:"saslPassword"`
	NodeLocator  string `json:"nodeLocator"`
	Nodes        []struct {
		Hostname string `json:"hostname"`
		Status   string `json:"status"`
		Ports    struct {
			Direct int `json:"direct"`
		} `json:"ports"`
	} `json:"nodes"`
	VBucketServerMap struct {
		HashAlgorithm     string   `json:"hashAlgorithm"`
		NumReplicas       int      `json:"numReplicas"`
		ServerList        []string `json:"serverList"`
		VBucketMap        [][]int  `json:"vBucketMap"`
		VBucketMapForward [][]int  `json:"vBucketMapForward"`
	} `json:"vBucketServerMap"`
}

// masterOf returns the address of key's master in cfg.
func (b *testBucket) masterOf(key string) string {
	m := b.VBucketServerMap
	row := m.VBucketMap[vbucketOf([]byte(key), len(m.VBucketMap))]
	if row[0] < 0 {
		return ""
	}
	return m.ServerList[row[0]]
}

func parseBucket(t *testing.T, data []byte) *testBucket {
	t.Helper()
	var b testBucket
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatalf("config is not JSON: %v\n%s", err, data)
	}
	return &b
}

// httpDo sends a request with optional basic auth and returns the status
// and body.
func httpDo(t *testing.T, method, url, user, pass string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, url, err)
	}
	return resp.StatusCode, body
}

// fetchBucket is the one-shot config of a password-less bucket.
func fetchBucket(t *testing.T, m *mock, name string) *testBucket {
	t.Helper()
	code, body := httpDo(t, "GET", m.restURL()+"/pools/default/buckets/"+name, "", "")
	if code != http.StatusOK {
		t.Fatalf("GET bucket %s: %d %s", name, code, body)
	}
	return parseBucket(t, body)
}

// admin posts to the admin API and fails the test unless it answers
// wantCode.
func admin(t *testing.T, m *mock, path string, wantCode int) []byte {
	t.Helper()
	code, body := httpDo(t, "POST", m.restURL()+path, "", "")
	if code != wantCode {
		t.Fatalf("POST %s: %d %s, want %d", path, code, body, wantCode)
	}
	return body
}

func mockStats(t *testing.T, m *mock) statsJSON {
	t.Helper()
	_, body := httpDo(t, "GET", m.restURL()+"/mock/stats", "", "")
	var st statsJSON
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("stats: %v %s", err, body)
	}
	return st
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// binClient is a plain binary-protocol connection to a data node.
type binClient struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialBin(t *testing.T, addr string) *binClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &binClient{t: t, c: c, br: bufio.NewReader(c)}
}

// do sends one request and reads one reply.
func (b *binClient) do(op binproto.Opcode, vb uint16, opaque uint32, extras []byte, key, value string) binproto.Packet {
	b.t.Helper()
	p, err := b.try(op, vb, opaque, extras, key, value)
	if err != nil {
		b.t.Fatalf("op %#x key %q: %v", uint8(op), key, err)
	}
	return p
}

func (b *binClient) try(op binproto.Opcode, vb uint16, opaque uint32, extras []byte, key, value string) (binproto.Packet, error) {
	_ = b.c.SetDeadline(time.Now().Add(10 * time.Second))
	pkt := binproto.AppendRequest(nil, op, vb, opaque, 0, extras, []byte(key), []byte(value))
	var p binproto.Packet
	if _, err := b.c.Write(pkt); err != nil {
		return p, err
	}
	_, _, err := binproto.ReadResponse(b.br, nil, &p)
	return p, err
}

// setExtras are a set's extras: flags 0, no expiry.
func setExtras() []byte { return make([]byte, 8) }

// configReader splits a streaming response body into configs.
type configReader struct {
	br  *bufio.Reader
	buf bytes.Buffer
}

// next returns the next config of the stream.
func (r *configReader) next() ([]byte, error) {
	for {
		if i := strings.Index(r.buf.String(), streamDelimiter); i >= 0 {
			msg := bytes.Clone(r.buf.Bytes()[:i])
			r.buf.Next(i + len(streamDelimiter))
			return msg, nil
		}
		chunk := make([]byte, 4096)
		n, err := r.br.Read(chunk)
		r.buf.Write(chunk[:n])
		if err != nil {
			return nil, err
		}
	}
}

// followStream opens the default bucket's config stream. next returns
// each config as it comes; closing body ends the stream (it is closed at
// cleanup anyway).
func followStream(t *testing.T, m *mock) (next func() *testBucket, body io.Closer) {
	t.Helper()
	resp, err := http.Get(m.restURL() + "/pools/default/bucketsStreaming/default")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	stream := &configReader{br: bufio.NewReader(resp.Body)}
	return func() *testBucket {
		t.Helper()
		raw, err := stream.next()
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		return parseBucket(t, raw)
	}, resp.Body
}
