package node

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"
)

// TestWaitServing: a static map alone is not readiness; the listeners
// must be bound too, and WaitServing gives up with its context.
func TestWaitServing(t *testing.T) {
	port := freePort(t)
	opts := DefaultOptions()
	opts.Listen = "127.0.0.1"
	opts.ClusterConfig = strconv.Itoa(port) + "=127.0.0.1:1"
	n := mustNew(t, opts)
	if !n.serving() {
		t.Fatal("a static -z map should count as serving")
	}

	early, cancelEarly := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelEarly()
	if err := n.WaitServing(early); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitServing before Run = %v, want DeadlineExceeded", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	wait, cancelWait := context.WithTimeout(ctx, 5*time.Second)
	defer cancelWait()
	if err := n.WaitServing(wait); err != nil {
		t.Fatalf("WaitServing after Run = %v", err)
	}
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("ready, yet the proxy port refuses: %v", err)
	}
	_ = c.Close()
}
