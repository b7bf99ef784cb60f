package restconfig

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// consume reads one byte per Read through the real read loop: both
// configs, then the empty remainder, and a completed transfer.
func TestConsumeOneByteReads(t *testing.T) {
	a, b := twoConfigs(t)
	body := fixture(t, "rest/bucketsStreamingConfig-default.body")
	col := &collector{}
	c, err := New(Config{URLs: []string{"http://127.0.0.1:1/"}}, col.handle)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	res := c.consume(context.Background(), "u", iotest.OneByteReader(bytes.NewReader(body)))
	if res.outcome != completed || res.configs != 2 {
		t.Fatalf("result = %+v, want completed with 2 configs", res)
	}
	got := col.all()
	if len(got) != 2 || got[0].body != a || got[1].body != b {
		t.Fatalf("got %d messages, want the two configs", len(got))
	}
	if st := c.Stats(); st.EmptyConfigs != 1 || st.Configs != 2 {
		t.Errorf("stats = %+v, want EmptyConfigs 1 and Configs 2", st)
	}
}

// streamOf serves body split by write: one byte per flushed write, or
// all of it in one write.
func streamOf(t *testing.T, body string, bytewise bool) string {
	t.Helper()
	var chunks []string
	if bytewise {
		for i := range len(body) {
			chunks = append(chunks, body[i:i+1])
		}
	} else {
		chunks = []string{body}
	}
	srv := httptest.NewServer(streamHandler(chunks...))
	t.Cleanup(srv.Close)
	return srv.URL + "/pools/default/bucketsStreaming/default"
}

// Over real HTTP chunking the split configs arrive intact whether every
// byte is its own flushed chunk or both configs share one write.
func TestStreamSplitsOnEveryDelimiter(t *testing.T) {
	a, b := twoConfigs(t)
	body := a + "\n\n\n\n" + b + "\n\n\n\n"
	for _, tc := range []struct {
		name     string
		bytewise bool
	}{{"byte by byte", true}, {"one write", false}} {
		t.Run(tc.name, func(t *testing.T) {
			u := streamOf(t, body, tc.bytewise)
			col := &collector{reject: jsonOnly}
			c := startClient(t, Config{URLs: []string{u}}, col.handle)
			waitFor(t, 10*time.Second, "two configs", func() bool { return c.Stats().Configs >= 2 })
			got := col.all()
			if len(got) != 2 || got[0].body != a || got[1].body != b {
				t.Fatalf("got %d messages, want the two configs in order", len(got))
			}
			if st := c.Stats(); !st.Connected || st.BadConfigs != 0 {
				t.Errorf("stats = %+v, want connected, no bad configs", st)
			}
		})
	}
}

// A message beyond MaxConfigSize marks the source bad and the next URL is
// tried.
func TestTooLargeConfigFailsOver(t *testing.T) {
	big := httptest.NewServer(streamHandler(`{"pad":"` + strings.Repeat("x", 100) + `"}`))
	t.Cleanup(big.Close)
	small := httptest.NewServer(streamHandler(`{"ok":1}` + "\n\n\n\n"))
	t.Cleanup(small.Close)
	lg, logs := newLogger()
	col := &collector{}
	c := startClient(t, Config{URLs: []string{big.URL, small.URL}, Logger: lg, MaxConfigSize: 64}, col.handle)
	waitFor(t, 5*time.Second, "config from the second URL", func() bool { return c.Stats().Configs >= 1 })
	if got := col.all(); got[0].url != small.URL {
		t.Errorf("first message from %q, want %q", got[0].url, small.URL)
	}
	if logs.count("bad config from REST server: "+big.URL, "config too large", "level=ERROR") < 1 {
		t.Errorf("log lacks the too-large line:\n%s", logs)
	}
	if st := c.Stats(); st.BadConfigs < 1 || st.Failovers < 1 {
		t.Errorf("stats = %+v, want BadConfigs and Failovers >= 1", st)
	}
}

// endlessHandler streams p until the client goes away, never sending a
// delimiter: a broken or hostile server.
func endlessHandler(p []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fl := w.(http.Flusher)
		for r.Context().Err() == nil {
			if _, err := w.Write(p); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// An endless message marks the source bad once it passes MaxConfigSize,
// and the whole fail-over, HTTP included, allocates less than twice
// MaxConfigSize: the framer neither doubles past the limit nor copies what
// it holds.
func TestEndlessConfigBoundedMemory(t *testing.T) {
	const max = 4 << 20
	big := httptest.NewServer(endlessHandler(bytes.Repeat([]byte("x"), 32<<10)))
	t.Cleanup(big.Close)
	small := httptest.NewServer(streamHandler(`{"ok":1}` + "\n\n\n\n"))
	t.Cleanup(small.Close)
	lg, logs := newLogger()
	col := &collector{}
	var c *running
	n := allocated(func() {
		c = startClient(t, Config{URLs: []string{big.URL, small.URL}, Logger: lg, MaxConfigSize: max}, col.handle)
		waitFor(t, 10*time.Second, "config from the second URL", func() bool { return c.Stats().Configs >= 1 })
	})
	if got := col.all(); got[0].url != small.URL {
		t.Errorf("first message from %q, want %q", got[0].url, small.URL)
	}
	if logs.count("bad config from REST server: "+big.URL, "config too large", "level=ERROR") < 1 {
		t.Errorf("log lacks the too-large line:\n%s", logs)
	}
	if st := c.Stats(); st.BadConfigs < 1 || st.Failovers < 1 {
		t.Errorf("stats = %+v, want BadConfigs and Failovers >= 1", st)
	}
	if n >= 2*max {
		t.Errorf("allocated %d bytes refusing a message past %d, want < %d", n, max, 2*max)
	}
	t.Logf("allocated %d bytes (%.2f x MaxConfigSize)", n, float64(n)/max)
}
