package restconfig

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Default values applied by New to zero fields, and returned by
// DefaultConfig.
const (
	// DefaultRetry is moxi's sleep(1) between passes over the URL list.
	DefaultRetry = time.Second
	// DefaultMaxBackoff caps the pause while no URL yields a config, so a
	// fleet of proxies does not hammer a restarting cluster every second.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultMaxConfigSize bounds one message. A saslBucketsStreaming
	// document with hundreds of 1024-vbucket buckets is a few MiB.
	DefaultMaxConfigSize = 64 << 20
)

// Config configures a Client.
type Config struct {
	URLs           []string // fail-over list, tried in order
	User, Password string   // HTTP basic auth; no auth when User == ""
	Logger         *slog.Logger
	// Retry is the pause between passes over the URL list (moxi: 1 s);
	// tests use less. Zero means DefaultRetry.
	Retry time.Duration
	// MaxBackoff caps an exponential backoff applied while no URL answers
	// with a config (0: Retry only, as moxi).
	MaxBackoff time.Duration
	// HTTPClient is optional; it must not have an overall Timeout, since
	// streams are endless. The default client sets TCP keepalive so a dead
	// peer is noticed, and has no idle timeout: membase may be silent for
	// a long time when nothing changes.
	HTTPClient *http.Client
	// UserAgent, when set, is sent as User-Agent (moxi/<version>).
	UserAgent string
	// MaxConfigSize bounds one message in bytes; zero means
	// DefaultMaxConfigSize. A larger message marks the source bad.
	MaxConfigSize int
}

// DefaultConfig returns a Config with moxi's retry pause and a backoff cap;
// the caller fills in URLs, credentials and the logger.
func DefaultConfig() Config {
	return Config{
		Retry:         DefaultRetry,
		MaxBackoff:    DefaultMaxBackoff,
		MaxConfigSize: DefaultMaxConfigSize,
	}
}

// Validate reports a Config that cannot work, so the mistake surfaces at
// start-up rather than as an endless stream of retry warnings.
func (c Config) Validate() error {
	if len(c.URLs) == 0 {
		return errors.New("restconfig: no REST URL configured")
	}
	for _, raw := range c.URLs {
		if err := validateURL(raw); err != nil {
			return fmt.Errorf("restconfig: url %q: %w", raw, err)
		}
	}
	if c.Retry < 0 || c.MaxBackoff < 0 || c.MaxConfigSize < 0 {
		return errors.New("restconfig: negative retry, backoff or size")
	}
	if c.HTTPClient != nil && c.HTTPClient.Timeout != 0 {
		return errors.New("restconfig: http client has an overall timeout; streams are endless")
	}
	return nil
}

// validateURL accepts only absolute http(s) URLs, the only kind the client
// can GET.
func validateURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("no host")
	}
	return nil
}

// withDefaults fills zero fields so the rest of the package never checks
// for them.
func (c Config) withDefaults() Config {
	if c.Retry == 0 {
		c.Retry = DefaultRetry
	}
	if c.MaxConfigSize == 0 {
		c.MaxConfigSize = DefaultMaxConfigSize
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = defaultHTTPClient()
	}
	c.URLs = append([]string(nil), c.URLs...)
	return c
}
