package netserve

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// TestServeAndShutdown: connections are served, Shutdown cancels the
// handlers' context, waits for them, and Serve returns ErrServerClosed.
func TestServeAndShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	handlerDone := make(chan struct{})
	s := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Handler: func(ctx context.Context, c net.Conn) {
		defer close(handlerDone)
		_, _ = c.Write([]byte("hi"))
		<-ctx.Done()
	}}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 2)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hi" {
		t.Fatalf("read %q, %v; want hi", buf, err)
	}
	if n := s.NumConns(); n != 1 {
		t.Fatalf("NumConns = %d, want 1", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case <-handlerDone:
	default:
		t.Fatal("Shutdown returned before the handler")
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve returned %v, want ErrServerClosed", err)
	}
	if _, err := c.Read(buf); err == nil {
		t.Fatal("connection still open after Shutdown")
	}
}

// TestPanicIsContained: a panicking handler closes its connection and the
// server keeps serving others.
func TestPanicIsContained(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Handler: func(ctx context.Context, c net.Conn) {
		b := make([]byte, 1)
		if _, err := c.Read(b); err == nil && b[0] == 'p' {
			panic("boom")
		}
		_, _ = c.Write([]byte("ok"))
	}}
	go func() { _ = s.Serve(ln) }()
	defer s.Shutdown(context.Background())
	for _, first := range []string{"p", "x"} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write([]byte(first))
		got, _ := io.ReadAll(c)
		c.Close()
		want := map[string]string{"p": "", "x": "ok"}[first]
		if string(got) != want {
			t.Fatalf("after %q got %q, want %q", first, got, want)
		}
	}
}

// TestMaxConns: with MaxConns 2, a third connection gets Reject and is
// closed and counted; once one of the two closes, a new one is served.
func TestMaxConns(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxConns: 2,
		Reject: []byte("ERROR Too many open connections\r\n"),
		Handler: func(ctx context.Context, c net.Conn) {
			_, _ = c.Write([]byte("hi"))
			_, _ = c.Read(make([]byte, 1)) // until the client closes
		}}
	go func() { _ = s.Serve(ln) }()
	defer s.Shutdown(context.Background())
	dialRead := func(n int) (net.Conn, string) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(io.LimitReader(c, int64(n)))
		return c, string(b)
	}
	a, got := dialRead(2)
	b, got2 := dialRead(2)
	if got != "hi" || got2 != "hi" {
		t.Fatalf("first two read %q, %q", got, got2)
	}
	c, got := dialRead(100)
	if got != "ERROR Too many open connections\r\n" {
		t.Fatalf("third read %q (then closed), want the rejection", got)
	}
	c.Close()
	if s.Rejected() != 1 {
		t.Fatalf("Rejected = %d, want 1", s.Rejected())
	}
	a.Close()
	deadline := time.Now().Add(5 * time.Second)
	for s.NumConns() != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	d, got := dialRead(2)
	if got != "hi" {
		t.Fatalf("after a close, a new connection read %q", got)
	}
	b.Close()
	d.Close()
}
