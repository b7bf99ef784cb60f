package node

import (
	"bytes"
	"fmt"
	"testing"
)

func TestDropsEncoding(t *testing.T) {
	type drop struct {
		port   int
		bucket string
		key    []byte
	}
	in := []drop{{11211, "default", []byte("k1")}, {11212, "b", nil}, {1, "", []byte("")}, {65535, "x", bytes.Repeat([]byte("k"), 250)}}
	var buf []byte
	for _, d := range in {
		buf = appendDrop(buf, d.port, d.bucket, d.key)
	}
	var out []drop
	eachDrop(buf, func(port int, bucket string, key []byte) { out = append(out, drop{port, bucket, key}) })
	if fmt.Sprint(out) != fmt.Sprint(in) || (out[1].key != nil) || out[2].key == nil {
		t.Fatalf("round trip: %v, want %v", out, in)
	}
	// A truncated payload stops at the last whole entry.
	var got int
	eachDrop(buf[:len(buf)-3], func(int, string, []byte) { got++ })
	if got != 3 {
		t.Errorf("truncated payload: %d entries, want 3", got)
	}
	// Splitting keeps every entry and no chunk passes the bound (but for
	// one entry longer than it, alone).
	chunks := splitDrops(buf, 20)
	var n int
	for _, c := range chunks {
		eachDrop(c, func(int, string, []byte) { n++ })
		if len(c) > 20 && bytes.Count(c, []byte("kkkk")) == 0 {
			t.Errorf("chunk of %d bytes over 20", len(c))
		}
	}
	if n != len(in) {
		t.Errorf("split kept %d entries, want %d", n, len(in))
	}
}
