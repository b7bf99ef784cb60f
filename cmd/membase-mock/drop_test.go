package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
)

// openStream opens the default bucket's stream and reads its first
// config.
func openStream(t *testing.T, m *mock) *configReader {
	t.Helper()
	resp, err := http.Get(m.restURL() + "/pools/default/bucketsStreaming/default")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	r := &configReader{br: bufio.NewReader(resp.Body)}
	if _, err := r.next(); err != nil {
		t.Fatalf("first config: %v", err)
	}
	return r
}

func dropStreams(t *testing.T, m *mock) int {
	t.Helper()
	var reply struct{ Dropped int }
	if err := json.Unmarshal(admin(t, m, "/mock/drop-streams", http.StatusOK), &reply); err != nil {
		t.Fatal(err)
	}
	return reply.Dropped
}

// TestDropStreams: POST /mock/drop-streams ends every open stream
// normally (the client reads the end of the body, not an error); a stream
// opened afterwards stays open until the next drop.
func TestDropStreams(t *testing.T) {
	m := startMock(t, "-nodes", "1", "-vbuckets", "8")
	a, b := openStream(t, m), openStream(t, m)
	eventually(t, "two streams open", func() bool { return mockStats(t, m).StreamsOpen == 2 })
	if n := dropStreams(t, m); n != 2 {
		t.Errorf("dropped %d streams, want 2", n)
	}
	for i, r := range []*configReader{a, b} {
		if _, err := r.next(); !errors.Is(err, io.EOF) {
			t.Errorf("stream %d after the drop: %v, want the end of the body", i, err)
		}
	}
	eventually(t, "no stream open", func() bool { return mockStats(t, m).StreamsOpen == 0 })

	c := openStream(t, m)
	eventually(t, "the new stream open", func() bool { return mockStats(t, m).StreamsOpen == 1 })
	if n := dropStreams(t, m); n != 1 {
		t.Errorf("second drop: %d streams, want 1 (the one opened after the first drop)", n)
	}
	if _, err := c.next(); !errors.Is(err, io.EOF) {
		t.Errorf("the new stream after the second drop: %v, want the end of the body", err)
	}
	if st := mockStats(t, m); st.StreamsTotal != 3 {
		t.Errorf("streams_total %d, want 3", st.StreamsTotal)
	}
}
