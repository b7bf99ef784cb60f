package proxycore

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// slowServer answers every text "get" with END after delay, one request
// at a time: a server that is slow but always making progress, which no
// real memcached can be made to be on demand.
func slowServer(t *testing.T, delay time.Duration) string {
	return fakeServer(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(line, "get ") {
				time.Sleep(delay)
				if _, err := c.Write([]byte("END\r\n")); err != nil {
					return
				}
			}
		}
	})
}

// fakeServer listens on loopback and serves each connection with serve,
// which need not close it; it returns the address.
func fakeServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// TestSlowServerIsNotTimedOut: downstream_timeout is a limit on a server
// making no progress, not on a batch: six pipelined gets answered 120 ms
// apart take over twice the 300 ms timeout, and none times out.
func TestSlowServerIsNotTimedOut(t *testing.T) {
	addr := slowServer(t, 120*time.Millisecond)
	p := startProxy(t, []string{addr}, func(b *Behavior) {
		b.DownstreamProtocol = "ascii"
		b.DownstreamTimeout = 300 * time.Millisecond
	})
	c := dial(t, p.addr)
	c.send(strings.Repeat("get k\r\n", 6))
	c.expect(strings.Repeat("END\r\n", 6))
	if n := onlyBucket(p).stats.get(totDownstreamTimeout); n != 0 {
		t.Fatalf("downstream timeouts = %d, want 0", n)
	}
}

// TestIdleConnectionOutlivesTimeout: a server connection idle for longer
// than downstream_timeout is neither timed out nor replaced.
func TestIdleConnectionOutlivesTimeout(t *testing.T) {
	addr := slowServer(t, 0)
	p := startProxy(t, []string{addr}, func(b *Behavior) {
		b.DownstreamProtocol = "ascii"
		b.DownstreamTimeout = 100 * time.Millisecond
	})
	c := dial(t, p.addr)
	c.send("get k\r\n")
	c.expect("END\r\n")
	time.Sleep(350 * time.Millisecond) // idle through three timeouts
	c.send("get k\r\n")
	c.expect("END\r\n")
	b := onlyBucket(p)
	if n := b.stats.get(totDownstreamTimeout); n != 0 {
		t.Fatalf("downstream timeouts = %d, want 0", n)
	}
	if n := b.stats.get(totDownstreamConnect); n != 1 {
		t.Fatalf("downstream connects = %d, want 1 (the idle connection was dropped)", n)
	}
}
