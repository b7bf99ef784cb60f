package memserver

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/moxifleet/moxi/internal/binproto"
)

// TestBinaryAndTextShareTheStore checks that items stored over one
// protocol are served over the other.
func TestBinaryAndTextShareTheStore(t *testing.T) {
	addr, _ := startMemserver(t, Config{})
	text := dial(t, addr)
	if got, err := text.exchange("set x 3 0 2\r\nhi\r\n"); err != nil || got != "STORED\r\n" {
		t.Fatalf("text set: %q %v", got, err)
	}
	bin := newBinSide(t, addr)
	var b pktBuilder
	got, _, err := bin.exchange(&binChunk{pkts: [][]byte{
		b.key(binproto.OpGetK, "x"), b.set(binproto.OpSet, "y", 7, 0, "yo")}})
	want := []string{
		`op=0x0c status=0x0000 opaque=1 cas=#1 dt=0 extras=00000003 key="x" value="hi"`,
		`op=0x01 status=0x0000 opaque=2 cas=#2 dt=0 extras= key="" value=""`,
	}
	if err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("binary get and set: %q %v, want %q", got, err, want)
	}
	if got, err := text.exchange("gets y\r\n"); err != nil || got != "VALUE y 7 2 2\r\nyo\r\nEND\r\n" {
		t.Fatalf("text get: %q %v", got, err)
	}
}

// TestProtocolSetting checks the forced protocols against memcached's -B:
// a forced binary server closes on text, a forced ascii one parses a
// binary packet as a text line.
func TestProtocolSetting(t *testing.T) {
	noop := string(binproto.AppendRequest(nil, binproto.OpNoop, 0, 1, 0, nil, nil, nil))
	for _, tc := range []struct{ proto, send, wantPrefix string }{
		{"binary", "version\r\nversion\r\nversion\r\n", "<CLOSED>"}, // a header's worth
		{"ascii", noop + "\r\n", "ERROR\r\n"},
	} {
		mc := dial(t, startMemcached(t, "-B", tc.proto))
		msAddr, _ := startMemserver(t, Config{Protocol: tc.proto})
		want, err := mc.exchange(tc.send)
		if err != nil {
			t.Fatalf("%s: memcached: %v", tc.proto, err)
		}
		if !strings.HasPrefix(want, tc.wantPrefix) {
			t.Fatalf("%s: memcached answered %q, want %q first", tc.proto, want, tc.wantPrefix)
		}
		got, err := dial(t, msAddr).exchange(tc.send)
		if err != nil || got != want {
			t.Errorf("%s: memserver %q %v, memcached %q", tc.proto, got, err, want)
		}
	}
}

// TestBinaryPipelinedBatchIsOneWrite checks that the replies to a batch
// of binary requests that arrive together leave in a single write.
func TestBinaryPipelinedBatchIsOneWrite(t *testing.T) {
	s := New(Config{Version: "test"})
	srv, cli := net.Pipe()
	cc := &countingConn{Conn: srv}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.serveConn(ctx, cc); _ = srv.Close(); close(done) }() // netserve closes in production

	var b pktBuilder
	var batch []byte
	for range 50 {
		batch = append(batch, b.set(binproto.OpSet, "k", 0, 0, "1")...)
		batch = append(batch, b.key(binproto.OpGet, "k")...)
	}
	batch = append(batch, b.bare(binproto.OpQuit)...)
	go func() { _, _ = cli.Write(batch) }()
	out, err := io.ReadAll(cli)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	// 50 set replies (24 bytes), 50 get hits (24 + 4 flags + 1), a quit.
	if want := 50*24 + 50*29 + 24; len(out) != want || binary.BigEndian.Uint32(out[len(out)-12:]) != b.opaque {
		t.Fatalf("got %d bytes, want %d ending with the quit reply", len(out), want)
	}
	if n := cc.writes.Load(); n != 1 {
		t.Fatalf("%d writes for one pipelined batch, want 1", n)
	}
}
