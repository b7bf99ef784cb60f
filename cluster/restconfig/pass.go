package restconfig

import "context"

// outcome is how one URL's fetch ended, which decides where the pass goes
// next.
type outcome int

const (
	// failed: no connection, a bad status, a rejected or missing config,
	// or a broken stream. Try the next URL (moxi: curl error or
	// CONFLATE_ERROR_BAD_SOURCE).
	failed outcome = iota
	// completed: the transfer ended normally. Restart from the first URL
	// after the pause, as moxi does on success.
	completed
	// unauthorized: a 401; Run returns.
	unauthorized
	// canceled: ctx ended; Run returns nil.
	canceled
)

// result is one fetch's outcome, how many messages reached the Handler
// and how many it accepted on the way, and for unauthorized the error Run
// returns.
type result struct {
	outcome   outcome
	delivered int
	configs   int
	err       error
}

// pass tries the URLs in order until one completes its transfer, and
// reports whether any accepted a config. Only a 401 is returned as an
// error.
func (c *Client) pass(ctx context.Context) (fruitful bool, err error) {
	for i, u := range c.cfg.URLs {
		res := c.fetch(ctx, u)
		fruitful = fruitful || res.configs > 0
		switch res.outcome {
		case unauthorized:
			return fruitful, res.err
		case completed, canceled:
			return fruitful, nil
		}
		if i < len(c.cfg.URLs)-1 {
			c.stats.failovers.Add(1)
		}
	}
	return fruitful, nil
}
