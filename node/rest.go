package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"sync/atomic"
	"time"

	"github.com/moxifleet/moxi/cluster/restconfig"
	"github.com/moxifleet/moxi/mapstore"
	"github.com/moxifleet/moxi/proxycore"
)

// liveMap is a MapSource whose map a config source replaces while the
// proxy serves: readers load it without locking, on every request.
type liveMap struct{ m atomic.Pointer[mapstore.Map] }

func (l *liveMap) Current() *mapstore.Map { return l.m.Load() }

// restFeed streams one -z REST section's bucket configs into a liveMap,
// or, for a saslBucketsStreaming URL, every bucket of the stream into the
// proxy's pool on port_listen. A config that does not parse, or names no
// usable server, is rejected with a log line and the last good map stays
// in force.
type restFeed struct {
	section RESTSection
	bucket  string // the bucket this section serves; "" for a pool
	maps    *liveMap
	version atomic.Uint64
	logger  *slog.Logger
	client  *restconfig.Client
	port    int       // port_listen, where its bucket or pool serves
	clock   *mapClock // standalone: notes each map applied; nil in a fleet
	// applyPool hands a pool's buckets to the proxy; set once the proxy
	// exists, before the feed runs.
	applyPool func(maps []*mapstore.Map, keep []string) error
}

// restBuckets turns a REST -z config into one bucket per section, on
// port_listen, each fed by its own streaming client; a section that
// streams every bucket (saslBucketsStreaming) becomes a pool instead.
func (n *Node) restBuckets(rc *RESTConfig) ([]proxycore.Bucket, []proxycore.Pool, []*restFeed, error) {
	var buckets []proxycore.Bucket
	var pools []proxycore.Pool
	var feeds []*restFeed
	for _, s := range rc.Sections {
		f := &restFeed{section: s, maps: &liveMap{}, logger: n.logger, port: n.behavior.PortListen}
		if n.fleet == nil { // a fleet node's /status records its maps
			f.clock = &n.clock
		}
		cfg := restconfig.DefaultConfig()
		cfg.URLs, cfg.Logger, cfg.UserAgent = s.URLs, n.logger, "moxi/"+n.opts.Version
		cfg.User, cfg.Password = s.Credentials(n.behavior)
		client, err := restconfig.New(cfg, f.handle)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("-z: %w", err)
		}
		f.client = client
		feeds = append(feeds, f)
		if streamsAllBuckets(s.URLs[0]) {
			pools = append(pools, proxycore.Pool{Port: n.behavior.PortListen, Behavior: n.behavior})
			continue
		}
		f.bucket = bucketOfURL(s.URLs[0])
		buckets = append(buckets, proxycore.Bucket{Port: n.behavior.PortListen, Name: f.bucket,
			Behavior: n.behavior, Maps: f.maps, REST: true})
	}
	if len(pools) > 0 && len(feeds) > 1 {
		return nil, nil, nil, errors.New("-z: a saslBucketsStreaming URL serves every bucket on port_listen; it cannot share it with other sections")
	}
	return buckets, pools, feeds, nil
}

// streamsAllBuckets reports whether a streaming URL carries every bucket
// of the cluster, as membase's saslBucketsStreaming does.
func streamsAllBuckets(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && path.Base(u.Path) == "saslBucketsStreaming"
}

// bucketOfURL is the bucket a streaming URL names: its last path element
// (".../bucketsStreamingConfig/default" serves "default").
func bucketOfURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || path.Base(u.Path) == "" || path.Base(u.Path) == "/" {
		return "default"
	}
	return path.Base(u.Path)
}

// handle applies one streamed config message as the next version.
func (f *restFeed) handle(_ context.Context, body []byte, src string) error {
	return f.apply(body, src, f.version.Load()+1)
}

// apply applies one config message as the given map version: the next of
// this process's stream, or, in a fleet, the raft index that carried it.
func (f *restFeed) apply(body []byte, src string, version uint64) error {
	maps, err := mapstore.ParseBucketsHost(body, hostOf(src))
	if f.applyPool != nil {
		return f.handlePool(maps, err, src, version)
	}
	// A refusal is logged once, by the REST client that delivered it.
	if err != nil {
		return fmt.Errorf("parse config, keeping the last good map: %w", err)
	}
	m := pickBucket(maps, f.bucket)
	if m == nil {
		return fmt.Errorf("no usable bucket %q in config, keeping the last good map", f.bucket)
	}
	m.Version = version
	f.version.Store(version)
	prev := f.maps.m.Swap(m)
	f.clock.note(f.port, f.bucket, version, time.Now())
	f.logger.Info(f.appliedMsg(), append([]any{"url", src, "version", m.Version, "servers", len(m.Servers)},
		mapChange(prev, m)...)...)
	return nil
}

// mapChange describes, for the log line of an applied map, what changed
// from prev (libvbucket's vbucket_compare): servers added and removed,
// and how many vBuckets have a new master (-1: their count changed).
func mapChange(prev, next *mapstore.Map) []any {
	if prev == nil {
		return nil
	}
	d := mapstore.Compare(prev, next)
	var attrs []any
	if len(d.ServersAdded) > 0 {
		attrs = append(attrs, "servers_added", d.ServersAdded)
	}
	if len(d.ServersRemoved) > 0 {
		attrs = append(attrs, "servers_removed", d.ServersRemoved)
	}
	if next.IsVBucket() {
		attrs = append(attrs, "vbuckets_moved", d.VBucketChanges)
	}
	return attrs
}

// hostOf is the host of a config's URL, which stands in for "$HOST".
func hostOf(src string) string {
	if u, err := url.Parse(src); err == nil {
		return u.Hostname()
	}
	return ""
}

// handlePool applies a message of every bucket. A bucket whose part is
// bad is logged and keeps its last good map while the others are applied,
// so one bad tenant does not take the rest down; a message that is bad as
// a whole changes nothing.
func (f *restFeed) handlePool(maps []*mapstore.Map, err error, src string, v uint64) error {
	var keep []string
	for _, e := range bucketErrors(err) {
		f.logger.Error("rejected a bucket of the config from REST server; keeping its last good map",
			"url", src, "bucket", e.Name, "err", e.Err)
		keep = append(keep, e.Name)
	}
	if err != nil && keep == nil {
		return fmt.Errorf("parse config, keeping the last good maps: %w", err)
	}
	f.version.Store(v)
	for _, m := range maps {
		m.Version = v
	}
	if err := f.applyPool(maps, keep); err != nil {
		return fmt.Errorf("apply config: %w", err)
	}
	now := time.Now()
	for _, m := range maps {
		f.clock.note(f.port, m.Name, v, now)
	}
	f.logger.Info(f.appliedMsg(), "url", src, "version", v, "buckets", len(maps))
	return nil
}

// bucketErrors returns the per-bucket errors joined in err.
func bucketErrors(err error) []*mapstore.BucketError {
	var out []*mapstore.BucketError
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			var be *mapstore.BucketError
			if errors.As(e, &be) {
				out = append(out, be)
			}
		}
	}
	return out
}

// pickBucket chooses the map for bucket among a config's buckets: the one
// of that name, or the only one.
func pickBucket(maps []*mapstore.Map, bucket string) *mapstore.Map {
	for _, m := range maps {
		if m.Name == bucket {
			return m
		}
	}
	if len(maps) == 1 {
		return maps[0]
	}
	return nil
}

// errAuth is what stops moxi when a REST server refuses its credentials,
// as the original exited on "ERROR: Authentication failure".
var errAuth = errors.New("authentication failure")

// run streams until ctx ends; a 401 ends it with errAuth.
func (f *restFeed) run(ctx context.Context) error {
	err := f.client.Run(ctx)
	if errors.Is(err, restconfig.ErrUnauthorized) {
		return fmt.Errorf("REST server %s: %w", f.client.Stats().CurrentURL, errAuth)
	}
	return err
}

// checkREST reports whether a feed of bucket ("" for a pool) would apply
// a config message, without applying it: the fleet's leader checks
// before it replicates.
func checkREST(body []byte, src, bucket string) error {
	maps, err := mapstore.ParseBucketsHost(body, hostOf(src))
	if bucket == "" { // a pool: bad buckets keep their maps, the rest apply
		if err != nil && len(bucketErrors(err)) == 0 {
			return fmt.Errorf("parse config: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("parse config: %w", err)
	}
	if pickBucket(maps, bucket) == nil {
		return errors.New("no usable bucket in config")
	}
	return nil
}

// appliedMsg is the log line of an applied config; the REST client has
// logged "configuration received" for it already.
func (f *restFeed) appliedMsg() string { return "map applied" }
