package restconfig

import (
	"context"
	"errors"
	"sync/atomic"
)

// Handler receives one config message (the text between "\n\n\n\n"
// delimiters, whitespace-trimmed, never empty) and the URL it came from;
// body is the Handler's to keep. Returning an error marks the source bad:
// the client logs it and moves to the next URL, as moxi does for
// unparseable JSON. An error wrapping *json.SyntaxError is logged with
// moxi's "parse JSON failed" line, any other with its own text.
type Handler func(ctx context.Context, body []byte, url string) error

// Client streams bucket configs from a fail-over list of REST URLs.
type Client struct {
	cfg     Config
	handler Handler
	stats   counters
	running atomic.Bool
}

// New checks cfg and returns a Client that will deliver configs to h.
func New(cfg Config, h Handler) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, errors.New("restconfig: nil handler")
	}
	return &Client{cfg: cfg.withDefaults(), handler: h}, nil
}

// Stats returns a snapshot of the client's counters; safe at any time.
func (c *Client) Stats() Stats { return c.stats.snapshot() }

// Run streams until ctx ends (returns nil) or a server answers 401
// (returns an error wrapping ErrUnauthorized whose message names the URL).
// Everything else, servers down included, is logged and retried forever,
// as moxi's REST thread does. Run must not be called concurrently.
func (c *Client) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("restconfig: Run already in progress")
	}
	defer c.running.Store(false)

	backoff := c.cfg.Retry // pause after the next pass without a config
	for ctx.Err() == nil {
		fruitful, err := c.pass(ctx)
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			break
		}
		pause := c.cfg.Retry
		if fruitful {
			backoff = c.cfg.Retry
		} else {
			logUnreachable(c.cfg.Logger, c.cfg.URLs, c.stats.configs.Load() > 0)
			pause, backoff = backoff, nextPause(backoff, c.cfg.Retry, c.cfg.MaxBackoff)
		}
		if !sleepCtx(ctx, pause) {
			break
		}
	}
	return nil
}
