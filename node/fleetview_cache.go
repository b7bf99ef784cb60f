package node

import (
	"context"
	"sync"
	"time"
)

// fleetFresh is how long a gathered fleet view is served as it is; the
// page polls /fleet every second.
const fleetFresh = 900 * time.Millisecond

// fleetCache answers /fleet at once with the last view gathered and
// gathers the next one in the background once that is older than
// fleetFresh: a dead or paused peer costs the gathering peerTimeout, and
// the page's every poll would otherwise wait that long for it. Only the
// first request of a kind (with or without history) waits. One gathering
// of a kind runs at a time, each bounded by peerTimeout.
type fleetCache struct {
	gather func(ctx context.Context, withHistory bool) FleetView

	mu    sync.Mutex
	slots [2]fleetSlot // without history, with
}

type fleetSlot struct {
	view    *FleetView
	running chan struct{} // closed when the gathering in flight ends; nil when none is
}

// get returns the last view of the kind, starting a gathering if it is
// stale; without any view yet, it waits for the gathering.
func (c *fleetCache) get(withHistory bool) FleetView {
	kind := 0
	if withHistory {
		kind = 1
	}
	c.mu.Lock()
	s := &c.slots[kind]
	if s.view != nil && time.Since(s.view.At) < fleetFresh {
		defer c.mu.Unlock()
		return *s.view
	}
	if s.running == nil {
		s.running = make(chan struct{})
		go c.refresh(s, withHistory, s.running)
	}
	running := s.running
	if s.view != nil { // stale: this one now, a fresher one next poll
		defer c.mu.Unlock()
		return *s.view
	}
	c.mu.Unlock()
	<-running
	c.mu.Lock()
	defer c.mu.Unlock()
	return *s.view
}

func (c *fleetCache) refresh(s *fleetSlot, withHistory bool, done chan struct{}) {
	v := c.gather(context.Background(), withHistory) // bounded by peerTimeout
	c.mu.Lock()
	s.view, s.running = &v, nil
	c.mu.Unlock()
	close(done)
}
