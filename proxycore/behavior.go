package proxycore

import (
	"crypto/tls"
	"time"
)

// Behavior is the proxy's tunables, the -Z keys of the original moxi. Times
// are durations here; on the command line they are milliseconds and 0 means
// "no timeout" (or "disabled").
type Behavior struct {
	Cycle                      time.Duration // cycle: internal clock quantum
	DownstreamMax              int           // downstream_max, concurrency: in-flight requests per listener; 0 unlimited
	DownstreamConnMax          int           // downstream_conn_max: connections per server; 0 unlimited
	DownstreamWeight           int           // downstream_weight, weight
	DownstreamRetry            int           // downstream_retry, retry
	DownstreamProtocol         Protocol      // downstream_protocol, protocol
	DownstreamTimeout          time.Duration // downstream_timeout, timeout, downstream_conn_timeout
	DownstreamConnQueueTimeout time.Duration // downstream_conn_queue_timeout
	WaitQueueTimeout           time.Duration // wait_queue_timeout
	ConnectTimeout             time.Duration // connect_timeout
	AuthTimeout                time.Duration // auth_timeout
	TimeStats                  bool          // time_stats
	McsOpts                    string        // mcs_opts, e.g. "distribution:modula"
	ConnectMaxErrors           int           // connect_max_errors; 0 disables blacklisting
	ConnectRetryInterval       time.Duration // connect_retry_interval
	FrontCacheMax              int           // front_cache_max
	FrontCacheLifespan         time.Duration // front_cache_lifespan
	FrontCacheSpec             string        // front_cache_spec
	FrontCacheUnspec           string        // front_cache_unspec
	FrontCacheBytes            int           // front_cache_bytes: the cache's memory bound in bytes
	KeyStatsMax                int           // key_stats_max
	KeyStatsLifespan           time.Duration // key_stats_lifespan
	KeyStatsSpec               string        // key_stats_spec
	KeyStatsUnspec             string        // key_stats_unspec
	OptimizeSet                string        // optimize_set
	Usr                        string        // usr
	Pwd                        string        // pwd
	Host                       string        // host (legacy)
	Port                       int           // port (legacy)
	Bucket                     string        // bucket
	PortListen                 int           // port_listen
	DefaultBucketName          string        // default_bucket_name
	// ClientMaxPendingBytes is client_max_pending_bytes: the reply bytes
	// held for one client before moxi stops reading its requests
	// (client_budget.go); 0 means no bound.
	ClientMaxPendingBytes int
	// ClientIdleTimeout is client_idle_timeout: a client that has not
	// sent a whole request this long after its previous one (idle, or
	// sending slowly, or leaving half a request) is closed, as memcached's
	// idle_timeout. 0, the default, never closes.
	ClientIdleTimeout time.Duration
	// DownstreamTLS, when set, is the TLS client configuration of every
	// server connection (-Z downstream_tls=1 and its files); the node
	// builds it once. Its ServerName, when empty, is the server's host.
	DownstreamTLS *tls.Config
}

// FirstBucket is the default_bucket_name value meaning "the first bucket of
// the config".
const FirstBucket = "[ <FIRST_BUCKET> ]"

// DefaultBehavior returns the original moxi's defaults, with the downstream
// protocol forced to binary as moxi's cproxy_init does.
func DefaultBehavior() Behavior {
	return Behavior{
		Cycle:                      200 * time.Millisecond,
		DownstreamMax:              1024,
		DownstreamConnMax:          4,
		DownstreamRetry:            1,
		DownstreamProtocol:         ProtocolBinary,
		DownstreamTimeout:          5000 * time.Millisecond,
		DownstreamConnQueueTimeout: 200 * time.Millisecond,
		WaitQueueTimeout:           200 * time.Millisecond,
		ConnectTimeout:             400 * time.Millisecond,
		AuthTimeout:                100 * time.Millisecond,
		ConnectMaxErrors:           5,
		ConnectRetryInterval:       30000 * time.Millisecond,
		FrontCacheMax:              200,
		FrontCacheBytes:            DefaultFrontCacheBytes,
		KeyStatsMax:                4000,
		PortListen:                 11211,
		DefaultBucketName:          FirstBucket,
		ClientMaxPendingBytes:      DefaultClientMaxPendingBytes,
	}
}
