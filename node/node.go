package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/moxifleet/moxi/internal/memserver"
	"github.com/moxifleet/moxi/mapstore"
	"github.com/moxifleet/moxi/proxycore"
)

// drainTimeout is how long Run lets in-flight requests finish on shutdown
// before closing every connection.
const drainTimeout = 5 * time.Second

// proxyServer and memServer are what Node needs of proxycore.Server and
// memserver.Server; tests substitute fakes.
type proxyServer interface {
	Serve(port int, ln net.Listener) error
	Shutdown(ctx context.Context) error
	// for /metrics
	EachCounter(fn func(proxycore.CounterSample))
	EachMap(fn func(proxycore.MapSample))
	EachCommand(fn func(proxycore.CommandSample))
	EachLatency(fn func(proxycore.LatencySample))
	EachServer(fn func(proxycore.ServerSample))
	EachFrontCache(fn func(proxycore.FrontCacheSample))
	EachKeyStat(n int, fn func(proxycore.KeyStatSample))
	RejectedConns() uint64
	DropShared(port int, bucket string, key []byte)
}

type memServer interface {
	Serve(ln net.Listener) error
	Shutdown(ctx context.Context) error
}

// Node is one moxi process: the proxy for the -z config and, with -p (or
// -s and no -z), the built-in memcached server.
type Node struct {
	opts     Options
	logger   *slog.Logger
	behavior proxycore.Behavior
	proxyCfg proxycore.Config // Buckets is empty when there is no -z
	proxy    proxyServer      // nil without -z
	mem      memServer        // nil unless the built-in server runs
	feeds    []*restFeed      // REST config sources, one per -z section
	level    *slog.LevelVar
	fleet    *fleet       // nil for a standalone proxy
	own      FleetOptions // moxi's own -Z keys: admin_listen, admin_pprof, log_format, cluster_*
	// clientTLS is the proxy ports' TLS (-Z tls_cert...), nil for none;
	// plainPorts are the ports a static -z section marks notls:.
	clientTLS  *tls.Config
	admin      adminAccess // who may read the admin server (admin_auth.go)
	plainPorts map[int]bool
	streams    streamMeter // the REST config streams this node runs, for /metrics
	clock      mapClock    // standalone: when each bucket's map was applied, for /metrics
	bound      atomic.Bool // serve has bound every listener (ready.go)
}

// New validates opts and builds the proxy and built-in server without
// binding any port; Run binds. level is the logger's level, handed to the
// proxy so the "verbosity" command can change it.
//
// Unlike the original, -z without -p does not start the built-in server
// on an OS-chosen port: that listener was an accident nobody could find.
func New(opts Options, logger *slog.Logger, level *slog.LevelVar) (*Node, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Mcmux {
		return nil, errors.New("mcmux mode (-X) is not supported yet")
	}
	fo, z, err := fleetOptions(opts.Behavior)
	if err != nil {
		return nil, err
	}
	fo.Join = append(fo.Join, opts.Join...)
	_, z, clientTLS, serverTLS, err := splitTLSKeys(z)
	if err != nil {
		return nil, err
	}
	if opts.ClusterConfig == "" && opts.Port == PortUnspecified && opts.Socket == "" && fo.Bind == "" {
		if opts.UDPPort != PortUnspecified {
			return nil, errors.New("-U: UDP is not supported; use -p for the built-in memcached server")
		}
		return nil, errors.New("need cluster configuration (-z, or -p for the built-in memcached server)")
	}
	b, err := ParseBehavior(z, opts.getenv)
	if err != nil {
		return nil, err
	}
	b.DownstreamTLS = serverTLS
	n := &Node{opts: opts, logger: logger, behavior: b, level: level, own: fo, clientTLS: clientTLS}
	if fo.Bind != "" {
		if err := n.newFleetNode(fo, z); err != nil {
			return n, err
		}
		return n, n.loadAdminAccess()
	}
	if fo.Data != "" || len(fo.Join) > 0 {
		return nil, errors.New("-Z cluster_data, cluster_join and moxi join need -Z cluster_bind")
	}
	if fo.securityKeysSet() {
		return nil, errors.New("-Z cluster_key, cluster_key_file, cluster_tls_* and cluster_insecure need -Z cluster_bind")
	}
	n.proxyCfg, err = n.buildProxyConfig()
	if err != nil {
		return nil, err
	}
	if len(n.proxyCfg.Buckets) > 0 || len(n.proxyCfg.Pools) > 0 {
		ps, err := proxycore.New(n.proxyCfg, proxycore.Deps{Logger: logger, Level: level})
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		n.proxy = ps
		n.connectPools(ps)
		n.noteStaticMaps(time.Now())
	}
	if n.runsMemServer() {
		n.mem = n.newMemServer()
	}
	n.warnIgnored()
	return n, n.loadAdminAccess()
}

// newMemServer builds the built-in memcached server from the flags.
func (n *Node) newMemServer() memServer {
	return memserver.New(memserver.Config{
		MaxBytes:    n.opts.MaxBytes,
		MaxItemSize: n.opts.MaxItemSize,
		NoEvict:     n.opts.NoEvict,
		Version:     n.opts.Version,
		Protocol:    n.opts.Protocol,
		MaxConns:    n.opts.MaxConns,
		Logger:      n.logger,
	})
}

// runsMemServer reports whether the built-in memcached server runs: on -p,
// or on -s when -s is not taken by the proxy. As in memcached, -s
// replaces the TCP listener.
func (n *Node) runsMemServer() bool {
	if n.opts.Socket != "" {
		return n.opts.ClusterConfig == ""
	}
	return n.opts.Port != PortUnspecified
}

// warnIgnored logs the flag combinations that are accepted but change
// nothing, so nobody wonders why.
func (n *Node) warnIgnored() {
	if n.opts.UDPPort > 0 {
		n.logger.Warn("-U has no effect: UDP is not supported", "port", n.opts.UDPPort)
	}
	if n.opts.Socket != "" && n.opts.Port > 0 {
		n.logger.Warn("-p has no effect with -s", "port", n.opts.Port)
	}
}

// buildProxyConfig turns -z into one bucket per static section.
func (n *Node) buildProxyConfig() (proxycore.Config, error) {
	cfg, err := n.baseProxyConfig()
	if err != nil || n.opts.ClusterConfig == "" {
		return cfg, err
	}
	cc, err := ParseClusterConfig(n.opts.ClusterConfig)
	if err != nil {
		return cfg, fmt.Errorf("-z: %w", err)
	}
	if cc.REST != nil {
		cfg.ConfType = "dynamic"
		cfg.Buckets, cfg.Pools, n.feeds, err = n.restBuckets(cc.REST)
		return cfg, err
	}
	if n.opts.Socket != "" && len(cc.Static) > 1 {
		return cfg, fmt.Errorf("-s: the unix socket can serve one proxy, but -z configures %d ports", len(cc.Static))
	}
	dist := mapstore.ParseDistribution(n.behavior.McsOpts)
	for _, s := range cc.Static {
		if s.NoTLS {
			if n.plainPorts == nil {
				n.plainPorts = map[int]bool{}
			}
			n.plainPorts[s.Port] = true
		}
		bucket, err := n.staticBucket(s, dist)
		if err != nil {
			return cfg, err
		}
		cfg.Buckets = append(cfg.Buckets, bucket)
	}
	return cfg, nil
}

// baseProxyConfig is the proxy configuration the flags make, with no
// bucket yet.
func (n *Node) baseProxyConfig() (proxycore.Config, error) {
	cfg := proxycore.Config{
		Version:     n.opts.Version,
		MaxItemSize: n.opts.MaxItemSize,
		Protocol:    n.opts.Protocol,
		Threads:     n.opts.Threads,
		MaxConns:    n.opts.MaxConns,
		ConfType:    "static",
		Settings:    settingsPairs(n.opts),
		// moxi's default_bucket_name: unset keeps clients on their
		// listener's bucket; any value, even "", names one (or the NULL
		// bucket).
		NamedDefaultBucket: n.behavior.DefaultBucketName != proxycore.FirstBucket,
		DefaultBucketName:  n.behavior.DefaultBucketName,
	}
	return cfg, nil
}

// staticBucket builds the "default" bucket of one static section. The -Z
// downstream_weight is not applied: the original appended it only to
// server lists built from REST ketama configs, never to -z host lists.
func (n *Node) staticBucket(s StaticSection, dist mapstore.Distribution) (proxycore.Bucket, error) {
	var m *mapstore.Map
	var err error
	if s.Kind == JSON {
		m, err = mapstore.ParseBucket([]byte(s.JSON))
	} else {
		m, err = mapstore.NewServerListMap(s.Servers, dist)
	}
	if err != nil {
		return proxycore.Bucket{}, fmt.Errorf("-z: proxy port %d: %w", s.Port, err)
	}
	m.Source = s.Raw
	return proxycore.Bucket{
		Port:     s.Port,
		Name:     "default",
		Behavior: n.behavior,
		Maps:     proxycore.StaticMap{M: m},
	}, nil
}

// connectPools points the feeds of saslBucketsStreaming sections at the
// proxy's pool on port_listen.
func (n *Node) connectPools(ps *proxycore.Server) {
	for _, f := range n.feeds {
		if f.bucket == "" {
			port := n.behavior.PortListen
			f.applyPool = func(maps []*mapstore.Map, keep []string) error { return ps.ApplyPool(port, maps, keep) }
		}
	}
}

// Behavior returns the parsed -Z behavior.
func (n *Node) Behavior() proxycore.Behavior { return n.behavior }

// ProxyConfig returns the proxy configuration built from the options.
func (n *Node) ProxyConfig() proxycore.Config { return n.proxyCfg }
