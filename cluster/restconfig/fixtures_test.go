package restconfig

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// jsonOnly rejects non-JSON as moxi's cJSON_Parse did, returning the
// *json.SyntaxError that selects moxi's "parse JSON failed" line.
func jsonOnly(body []byte) error {
	var v any
	return json.Unmarshal(body, &v)
}

// The ns_server-style chunked stream, replayed byte-for-byte, yields the
// two configs, then the empty remainder moxi logs when the stream closes,
// then a reconnect (which here serves a third config).
func TestReplayDefaultStream(t *testing.T) {
	a, b := twoConfigs(t)
	third := `{"name":"default","rev":3}`
	srv := newReplayServer(t,
		fixture(t, "rest/bucketsStreamingConfig-default.http"),
		[]byte("HTTP/1.0 200 OK\r\n\r\n"+third+"\n\n\n\n"))
	u := srv.url("/pools/default/bucketsStreamingConfig/default")
	lg, logs := newLogger()
	col := &collector{reject: jsonOnly}
	c := startClient(t, Config{URLs: []string{u}, Logger: lg}, col.handle)

	waitFor(t, 5*time.Second, "three configs", func() bool { return len(col.all()) >= 3 })
	got := col.all()
	for i, want := range []string{a, b, third} {
		if got[i].body != want {
			t.Errorf("message %d = %.60q..., want %.60q...", i, got[i].body, want)
		}
		if got[i].url != u {
			t.Errorf("message %d url = %q, want %q", i, got[i].url, u)
		}
	}
	if n := srv.accepts.Load(); n < 2 {
		t.Errorf("accepts = %d, want a reconnect", n)
	}
	st := c.Stats()
	if st.EmptyConfigs < 1 || st.BadConfigs != 0 || st.Connects < 2 {
		t.Errorf("stats = %+v, want EmptyConfigs >= 1, BadConfigs 0, Connects >= 2", st)
	}
	// The empty remainder is logged after the first stream's two configs
	// and before the reconnect's config.
	text := logs.String()
	empty := strings.Index(text, "invalid, empty config from REST server "+u)
	if empty < 0 || !strings.Contains(text[max(0, empty-40):empty], "level=WARN") {
		t.Fatalf("no warn-level empty-config line in log:\n%s", text)
	}
	if before := strings.Count(text[:empty], "configuration received"); before != 2 {
		t.Errorf("%d configs logged before the empty remainder, want 2", before)
	}
}

// MB-3113: an HTTP/1.0 reply with LF line ends and no framing, ended by
// close, carries one config {"buckets":[]}.
func TestReplayMB3113EmptyBucketList(t *testing.T) {
	srv := newReplayServer(t, fixture(t, "rest/saslBucketsStreaming-empty-MB-3113.http"))
	u := srv.url("/pools/default/saslBucketsStreaming")
	lg, logs := newLogger()
	col := &collector{reject: jsonOnly}
	c := startClient(t, Config{URLs: []string{u}, Logger: lg}, col.handle)

	waitFor(t, 5*time.Second, "config and empty remainder", func() bool {
		st := c.Stats()
		return st.Configs >= 1 && st.EmptyConfigs >= 1
	})
	if got := col.all()[0].body; got != `{"buckets":[]}` {
		t.Errorf("message = %q, want {\"buckets\":[]}", got)
	}
	if st := c.Stats(); st.BadConfigs != 0 || st.Failovers != 0 {
		t.Errorf("stats = %+v, want no bad configs or failovers", st)
	}
	if strings.Contains(logs.String(), "parse JSON failed") {
		t.Errorf("unexpected parse failure:\n%s", logs)
	}
}

// MB-3575: a non-JSON answer is logged with moxi's line and the client
// fails over to the next URL, which streams a good config.
func TestReplayMB3575FailsOver(t *testing.T) {
	a, _ := twoConfigs(t)
	bad := newReplayServer(t, fixture(t, "rest/bad-response-MB-3575.http"))
	good := httptest.NewServer(streamHandler(a, "\n\n\n\n"))
	t.Cleanup(good.Close)
	badURL := bad.url("/pools/default/bucketsStreaming/default")
	goodURL := good.URL + "/pools/default/bucketsStreaming/default"
	lg, logs := newLogger()
	col := &collector{reject: jsonOnly}
	c := startClient(t, Config{URLs: []string{badURL, goodURL}, Logger: lg}, col.handle)

	waitFor(t, 5*time.Second, "config from the good URL", func() bool { return c.Stats().Configs >= 1 })
	want := "parse JSON failed, from REST server: " + badURL + ", This is just a bad response that is not JSON."
	if logs.count(want, "level=ERROR") < 1 {
		t.Fatalf("log lacks error %q:\n%s", want, logs)
	}
	var accepted []message
	for _, m := range col.all() {
		if m.url == goodURL {
			accepted = append(accepted, m)
		}
	}
	if len(accepted) < 1 || accepted[0].body != a {
		t.Errorf("good URL messages = %d, want the config", len(accepted))
	}
	st := c.Stats()
	if st.Failovers < 1 || st.BadConfigs < 1 {
		t.Errorf("stats = %+v, want Failovers and BadConfigs >= 1", st)
	}
	waitFor(t, 5*time.Second, "connected to the good URL", func() bool {
		st := c.Stats()
		return st.Connected && st.CurrentURL == goodURL
	})
}
