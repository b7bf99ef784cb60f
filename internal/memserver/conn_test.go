package memserver

import (
	"context"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
)

// countingConn counts Write calls made by the server.
type countingConn struct {
	net.Conn
	writes atomic.Int32
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestPipelinedBatchIsOneWrite checks that replies to requests that arrive
// together leave in a single write.
func TestPipelinedBatchIsOneWrite(t *testing.T) {
	s := New(Config{Version: "test"})
	srv, cli := net.Pipe()
	cc := &countingConn{Conn: srv}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.serveConn(ctx, cc); _ = srv.Close(); close(done) }() // netserve closes in production

	batch := strings.Repeat("set k 0 0 1\r\n1\r\nget k\r\n", 50) + "quit\r\n"
	go func() { _, _ = cli.Write([]byte(batch)) }()
	out, err := io.ReadAll(cli)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	want := strings.Repeat("STORED\r\nVALUE k 0 1\r\n1\r\nEND\r\n", 50)
	if string(out) != want {
		t.Fatalf("replies: %q", out)
	}
	if n := cc.writes.Load(); n != 1 {
		t.Fatalf("%d writes for one pipelined batch, want 1", n)
	}
}
