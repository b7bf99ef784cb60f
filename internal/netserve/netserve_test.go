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
