package proxycore

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
)

// benchProxy starts n memcached servers and a proxy in front of them,
// speaking the text protocol to them unless tweak says otherwise.
func benchProxy(b *testing.B, n int, tweak ...func(*Behavior)) string {
	b.Helper()
	var addrs []string
	for i := 0; i < n; i++ {
		addrs = append(addrs, proxytestStart(b))
	}
	var t func(*Behavior)
	if len(tweak) > 0 {
		t = tweak[0]
	}
	return startProxy(b, addrs, t).addr
}

// BenchmarkGetPipelined measures single-key gets, 32 in flight per write.
func BenchmarkGetPipelined(b *testing.B) {
	addr := benchProxy(b, 2)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	fmt.Fprintf(c, "set bk 0 0 100\r\n%s\r\n", strings.Repeat("v", 100))
	if l, _ := r.ReadString('\n'); l != "STORED\r\n" {
		b.Fatalf("set: %q", l)
	}
	const depth = 32
	batch := []byte(strings.Repeat("get bk\r\n", depth))
	reply := make([]byte, depth*len("VALUE bk 0 100\r\n"+strings.Repeat("v", 100)+"\r\nEND\r\n"))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += depth {
		if _, err := c.Write(batch); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r, reply); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMultiGet100 measures 100-key gets spread over four servers.
func BenchmarkMultiGet100(b *testing.B) {
	b.Run("ascii", func(b *testing.B) { benchMultiGet100(b, benchProxy(b, 4)) })
	b.Run("binary", func(b *testing.B) {
		benchMultiGet100(b, benchProxy(b, 4, func(beh *Behavior) { beh.DownstreamProtocol = "binary" }))
	})
}

func benchMultiGet100(b *testing.B, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	var req strings.Builder
	req.WriteString("get")
	want := 0
	for i := 0; i < 100; i++ {
		fmt.Fprintf(c, "set mk%d 0 0 10 noreply\r\n0123456789\r\n", i)
		fmt.Fprintf(&req, " mk%d", i)
		want += len(fmt.Sprintf("VALUE mk%d 0 10\r\n0123456789\r\n", i))
	}
	req.WriteString("\r\n")
	want += len("END\r\n")
	line := []byte(req.String())
	reply := make([]byte, want)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(line); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r, reply); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetParallel measures request/reply gets from many clients, one
// request in flight per client, as most memcached clients work.
func BenchmarkGetParallel(b *testing.B) {
	b.Run("ascii", func(b *testing.B) { benchGetParallel(b, benchProxy(b, 4)) })
	b.Run("binary", func(b *testing.B) {
		benchGetParallel(b, benchProxy(b, 4, func(beh *Behavior) { beh.DownstreamProtocol = "binary" }))
	})
}

func benchGetParallel(b *testing.B, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(c, "set pk7 0 0 100\r\n%s\r\n", strings.Repeat("v", 100))
	if l, _ := bufio.NewReader(c).ReadString('\n'); l != "STORED\r\n" {
		b.Fatalf("set: %q", l)
	}
	c.Close()
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		req := []byte("get pk7\r\n")
		reply := make([]byte, len("VALUE pk7 0 100\r\n\r\nEND\r\n")+100)
		for pb.Next() {
			if _, err := c.Write(req); err != nil {
				b.Error(err)
				return
			}
			if _, err := io.ReadFull(r, reply); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
