package restconfig

import (
	"context"
	"fmt"
	"net/http"
)

// fetch GETs one URL and reads its body to the end, delivering every
// config on the way.
func (c *Client) fetch(ctx context.Context, u string) result {
	c.stats.setURL(u)
	req, err := c.newRequest(ctx, u)
	if err != nil {
		logConnectError(c.cfg.Logger, u, err)
		return result{outcome: failed}
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return result{outcome: canceled}
		}
		logConnectError(c.cfg.Logger, u, err)
		return result{outcome: failed}
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return result{outcome: unauthorized,
			err: fmt.Errorf("restconfig: REST server %s answered 401: %w", u, ErrUnauthorized)}
	default:
		logStatus(c.cfg.Logger, u, resp.Status)
		return result{outcome: failed}
	}
	// A stream opened after the first, whether the same URL again after
	// it ended or the next one of the list after a failure, is a
	// reconnect: counted apart so a dashboard need not subtract one per
	// client.
	if c.stats.connects.Add(1) > 1 {
		c.stats.reconnects.Add(1)
	}
	c.stats.connected.Store(true)
	defer c.stats.connected.Store(false)
	return c.consume(ctx, u, resp.Body)
}

// newRequest builds the GET: basic auth only when a user is set (moxi
// sends none for an empty user), JSON accepted, and the proxy's
// User-Agent. The request carries ctx, so cancelling it also unblocks a
// body read on a silent stream.
func (c *Client) newRequest(ctx context.Context, u string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if c.cfg.User != "" {
		req.SetBasicAuth(c.cfg.User, c.cfg.Password)
	}
	req.Header.Set("Accept", "application/json")
	if c.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	return req, nil
}
