package restconfig

import (
	"context"
	"time"
)

// nextPause returns the pause after cur when a pass over the URL list
// yielded no config: doubled, capped at maxBackoff. With maxBackoff at or
// below retry the pause stays at retry, moxi's fixed sleep(1).
func nextPause(cur, retry, maxBackoff time.Duration) time.Duration {
	if maxBackoff <= retry {
		return retry
	}
	if cur >= maxBackoff/2 {
		return maxBackoff
	}
	return cur * 2
}

// sleepCtx waits d or until ctx ends, reporting whether the full pause
// elapsed, so cancelling Run never waits out a long backoff.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
