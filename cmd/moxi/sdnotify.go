package main

import (
	"fmt"
	"log/slog"
	"net"
	"sync"
)

// notifier tells a service manager (systemd's Type=notify) what moxi is
// doing, by the sd_notify protocol: one datagram per state change to the
// unix socket NOTIFY_SOCKET names. Without NOTIFY_SOCKET it does nothing,
// so moxi run by hand or by another supervisor behaves as before.
type notifier struct {
	addr   string // NOTIFY_SOCKET; "" disables
	logger *slog.Logger

	mu      sync.Mutex // orders the states: a reload cannot interleave with a stop
	ready   bool       // READY=1 was sent
	stopped bool       // STOPPING=1 was sent; nothing follows it
}

func newNotifier(addr string, logger *slog.Logger) *notifier {
	return &notifier{addr: addr, logger: logger}
}

// enabled reports whether a service manager listens.
func (s *notifier) enabled() bool { return s.addr != "" }

// Ready sends READY=1 once, unless moxi already began stopping.
func (s *notifier) Ready() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready || s.stopped {
		return
	}
	s.ready = true
	s.send("READY=1")
}

// Reloading runs reload between RELOADING=1 and READY=1, so systemctl
// reload returns once it is done. Before READY=1 (or after STOPPING=1)
// it only runs reload: systemd would take a READY=1 there as startup
// finished, which it is not.
func (s *notifier) Reloading(reload func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	announce := s.ready && !s.stopped
	if announce {
		s.send("RELOADING=1")
	}
	reload()
	if announce {
		s.send("READY=1")
	}
}

// Stopping sends STOPPING=1 once, as the graceful stop begins, so systemd
// shows "deactivating" while the proxy drains instead of a running
// service that no longer accepts.
func (s *notifier) Stopping() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	s.send("STOPPING=1")
}

// send writes one datagram. A failure is logged, not fatal: systemd
// then reports a start timeout, which names the problem well enough, and
// moxi itself keeps serving.
func (s *notifier) send(state string) {
	if !s.enabled() {
		return
	}
	if err := sdNotify(s.addr, state); err != nil {
		s.logger.Warn("could not notify the service manager", "state", state, "err", err)
	}
}

// sdNotify sends state to the NOTIFY_SOCKET addr. Go's net package maps
// a leading '@' to Linux's abstract namespace, as sd_notify(3) does.
func sdNotify(addr, state string) error {
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notify socket %s: %w", addr, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("notify socket %s: %w", addr, err)
	}
	return nil
}
