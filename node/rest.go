package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"sync/atomic"

	"github.com/moxifleet/moxi/cluster/restconfig"
	"github.com/moxifleet/moxi/mapstore"
	"github.com/moxifleet/moxi/proxycore"
)

// liveMap is a MapSource whose map a config source replaces while the
// proxy serves: readers load it without locking, on every request.
type liveMap struct{ m atomic.Pointer[mapstore.Map] }

func (l *liveMap) Current() *mapstore.Map { return l.m.Load() }

// restFeed streams one -z REST section's bucket configs into a liveMap.
// A config that does not parse, or names no usable server, is rejected
// with a log line and the last good map stays in force.
type restFeed struct {
	section RESTSection
	bucket  string // the bucket this section serves
	maps    *liveMap
	version atomic.Uint64
	logger  *slog.Logger
	client  *restconfig.Client
}

// restBuckets turns a REST -z config into one bucket per section, on
// port_listen, each fed by its own streaming client.
func (n *Node) restBuckets(rc *RESTConfig) ([]proxycore.Bucket, []*restFeed, error) {
	var buckets []proxycore.Bucket
	var feeds []*restFeed
	for _, s := range rc.Sections {
		f := &restFeed{section: s, bucket: bucketOfURL(s.URLs[0]), maps: &liveMap{}, logger: n.logger}
		cfg := restconfig.DefaultConfig()
		cfg.URLs, cfg.Logger, cfg.UserAgent = s.URLs, n.logger, "moxi/"+n.opts.Version
		cfg.User, cfg.Password = s.Credentials(n.behavior)
		client, err := restconfig.New(cfg, f.handle)
		if err != nil {
			return nil, nil, fmt.Errorf("-z: %w", err)
		}
		f.client = client
		feeds = append(feeds, f)
		buckets = append(buckets, proxycore.Bucket{Port: n.behavior.PortListen, Name: f.bucket,
			Behavior: n.behavior, Maps: f.maps})
	}
	return buckets, feeds, nil
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

// handle applies one streamed config message.
func (f *restFeed) handle(_ context.Context, body []byte, src string) error {
	host := ""
	if u, err := url.Parse(src); err == nil {
		host = u.Hostname()
	}
	maps, err := mapstore.ParseBucketsHost(body, host)
	if err != nil {
		f.logger.Error("rejected config from REST server; keeping the last good map", "url", src, "err", err)
		return fmt.Errorf("parse config: %w", err)
	}
	m := pickBucket(maps, f.bucket)
	if m == nil {
		f.logger.Error("config from REST server has no usable bucket; keeping the last good map", "url", src, "bucket", f.bucket)
		return errors.New("no usable bucket in config")
	}
	m.Version = f.version.Add(1)
	f.maps.m.Store(m)
	f.logger.Info("configuration received", "url", src, "version", m.Version, "servers", len(m.Servers))
	return nil
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
