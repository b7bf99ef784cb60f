package proxycore

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/moxifleet/moxi/mapstore"
)

// poolMap is the MapSource of a pool's bucket: ApplyPool stores each new
// map, nil while the bucket is shut down.
type poolMap struct{ m atomic.Pointer[mapstore.Map] }

func (p *poolMap) Current() *mapstore.Map { return p.m.Load() }

// ApplyPool applies one message of a pool's config stream: each map
// updates the bucket of its name on port, or creates it; a bucket of the
// pool that the message leaves out is shut down (its requests fail with
// "out of downstreams" and its server connections are drained) and comes
// back in place if a later message names it again, as moxi does. Buckets
// named in keep are left as they are: their part of the message was bad,
// and the last good map stays in force.
func (s *Server) ApplyPool(port int, maps []*mapstore.Map, keep []string) error {
	pool, ok := s.poolCfg[port]
	if !ok {
		return fmt.Errorf("proxycore: no pool configured on port %d", port)
	}
	s.bmu.Lock()
	defer s.bmu.Unlock()
	named := make(map[string]*mapstore.Map, len(maps))
	for _, m := range maps {
		named[m.Name] = m
	}
	all := slices.Clone(s.allBuckets())
	for _, b := range all {
		if b.pool == nil || b.cfg.Port != port {
			continue
		}
		if m, ok := named[b.cfg.Name]; ok {
			b.pool.m.Store(m)
			delete(named, b.cfg.Name)
		} else if !slices.Contains(keep, b.cfg.Name) && b.pool.m.Load() != nil {
			b.shutdown()
		}
	}
	for _, m := range maps { // in message order, so "default" keeps its place
		if named[m.Name] == nil {
			continue
		}
		b := s.newPoolBucket(pool, m.Name)
		b.pool.m.Store(m)
		b.logger.Info("bucket configured")
		all = append(all, b)
	}
	s.buckets.Store(&all)
	return nil
}

func (s *Server) newPoolBucket(pool *Pool, name string) *bucket {
	pm := &poolMap{}
	cfg := Bucket{Port: pool.Port, Name: name, Behavior: pool.Behavior, Maps: pm, REST: true}
	b := newBucket(cfg, s.cfg.Threads, s.logger.With("port", pool.Port, "bucket", name))
	s.shareDrops(b)
	b.pool = pm
	return b
}

// shutdown takes a pool's bucket out of service: no map, and the
// connections of its servers drained after the grace period.
func (b *bucket) shutdown() {
	b.pool.m.Store(nil)
	b.mu.Lock()
	defer b.mu.Unlock()
	for addr, srv := range b.byAdr {
		delete(b.byAdr, addr)
		b.retire(srv)
	}
	b.route.Store(nil)
	if b.fc != nil {
		b.fc.dropAll(false) // its memory goes now; the bucket may come back
	}
	b.logger.Info("bucket shut down: the config no longer names it")
}

// active reports whether b has a map to serve from.
func (b *bucket) active() bool { return !b.isNull && b.cfg.Maps.Current() != nil }
