package restconfig

import (
	"context"
	"errors"
	"io"
)

// readSize is the read buffer; configs larger than this simply span reads.
const readSize = 32 << 10

// consume reads a 200 body until it ends, handing each delimited message
// to the Handler. When the body ends normally the trimmed remainder is one
// more message: a one-shot URL's whole answer, or nothing after a
// delimiter-terminated stream (moxi's "invalid, empty config").
func (c *Client) consume(ctx context.Context, u string, body io.Reader) result {
	f := framer{max: c.cfg.MaxConfigSize}
	buf := make([]byte, readSize)
	var res result
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if !c.drain(ctx, u, &f, buf[:n], &res) {
				return res
			}
		}
		if rerr == nil {
			continue
		}
		if ctx.Err() != nil {
			res.outcome = canceled
			return res
		}
		if !errors.Is(rerr, io.EOF) {
			logConnectError(c.cfg.Logger, u, rerr)
			res.outcome = failed
			return res
		}
		return c.finish(ctx, u, f.remainder(), res)
	}
}

// drain adds p to the framer and delivers every complete message. It
// reports false, with res.outcome set, when the source must be abandoned.
func (c *Client) drain(ctx context.Context, u string, f *framer, p []byte, res *result) bool {
	if err := f.write(p); err != nil {
		c.stats.badConfigs.Add(1)
		logTooLarge(c.cfg.Logger, u, err)
		res.outcome = failed
		return false
	}
	for msg, ok := f.next(); ok; msg, ok = f.next() {
		if !c.deliver(ctx, u, msg, res) {
			return false
		}
	}
	return true
}

// finish handles the remainder once the body has ended. An empty one is
// counted and logged but is not a bad source, unless the whole transfer
// carried no config at all: then the server has nothing to offer and the
// next URL is tried (moxi would have restarted from the first URL and
// could starve a good second one).
func (c *Client) finish(ctx context.Context, u string, rest []byte, res result) result {
	if len(rest) == 0 {
		c.stats.emptyConfigs.Add(1)
		logEmpty(c.cfg.Logger, u)
		if res.delivered == 0 {
			res.outcome = failed
			return res
		}
		res.outcome = completed
		return res
	}
	if !c.deliver(ctx, u, rest, &res) {
		return res
	}
	res.outcome = completed
	return res
}

// deliver hands one message to the Handler and counts the answer. It
// reports false, with res.outcome set, when the Handler rejected it or ctx
// ended meanwhile.
func (c *Client) deliver(ctx context.Context, u string, msg []byte, res *result) bool {
	res.delivered++
	err := c.handler(ctx, msg, u)
	if ctx.Err() != nil {
		res.outcome = canceled
		return false
	}
	if err != nil {
		c.stats.badConfigs.Add(1)
		logRejected(c.cfg.Logger, u, msg, err)
		res.outcome = failed
		return false
	}
	c.stats.configs.Add(1)
	res.configs++
	logReceived(c.cfg.Logger, u, len(msg))
	return true
}
