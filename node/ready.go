package node

import (
	"context"
	"time"
)

// readyPoll is how often WaitServing looks at serving(). Maps arrive by
// several paths (a REST feed, a pool, the fleet's log, a static entry);
// polling the one definition /health uses keeps readiness and the health
// check from ever disagreeing, at the cost of up to this much delay.
const readyPoll = 20 * time.Millisecond

// WaitServing returns nil once Run has bound every listener and the node
// serves with a map (what /health reports as serving), or ctx's error if
// ctx ends first. A service manager's readiness (sd_notify READY=1) waits
// on it so that "started" means clients get answers.
func (n *Node) WaitServing(ctx context.Context) error {
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for !n.bound.Load() || !n.serving() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
