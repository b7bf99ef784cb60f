package restconfig

import (
	"net"
	"net/http"
	"time"
)

// dialTimeout bounds only the TCP connect: an unreachable host should move
// the client to the next URL, not hang it (curl's default is 300 s).
const dialTimeout = 10 * time.Second

// defaultHTTPClient returns a client for endless streams: no overall or
// idle timeout (membase is silent while nothing changes), TCP keepalive
// (moxi sets SO_KEEPALIVE) so a vanished server is detected in about a
// minute, no transparent gzip (curl does not ask for it, and it would
// buffer a stream), and no connection reuse (each stream owns its
// connection, and a server that closes after the last chunk is not a
// stale idle connection to trip over).
func defaultHTTPClient() *http.Client {
	d := &net.Dialer{
		Timeout: dialTimeout,
		KeepAliveConfig: net.KeepAliveConfig{
			Enable:   true,
			Idle:     15 * time.Second,
			Interval: 15 * time.Second,
			Count:    4,
		},
	}
	return &http.Client{Transport: &http.Transport{
		Proxy:              http.ProxyFromEnvironment,
		DialContext:        d.DialContext,
		DisableCompression: true,
		DisableKeepAlives:  true,
	}}
}
