package proxycore

import (
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/ristretto/v2"

	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/binproto"
)

// frontCache keeps hot values inside the proxy (-Z front_cache_*), one
// per bucket, in a ristretto cache (TinyLFU admission, cost by size).
// It is on when front_cache_max, front_cache_lifespan and
// front_cache_spec are all set, as in the original; a key is cached when
// it starts with a spec prefix and with no unspec prefix.
//
// Staleness is bounded twice: every entry expires after the lifespan (a
// write made behind the proxy's back is visible after it), and every
// command through this proxy that may change a key drops it at once, all
// protocols alike; flush_all and a new map drop everything. A get's reply
// is learnt only when nothing was dropped between its dispatch and its
// reply (epoch): a value read while a write raced it is not kept.
type frontCache struct {
	c     *ristretto.Cache[string, cachedValue]
	beh   *Behavior
	epoch atomic.Uint64 // bumped by every drop
	// learnMu orders learning against dropping: a learn checks the epoch
	// and queues its Set under the read lock, a drop bumps the epoch under
	// the write lock and then waits out queued Sets before deleting, so no
	// Set queued before a drop lands after it (ristretto applies Sets
	// asynchronously, Del at once).
	learnMu      sync.RWMutex
	stats        *counters        // the bucket's: tot_front_cache_*
	share        func(key []byte) // tells the fleet of a drop; nil outside one
	spec, unspec string
}

// cachedValue is an item as a server's reply carried it, with the
// server it came from and that server's cache generation then: an entry
// whose server has moved keys since (a new map) is not served.
type cachedValue struct {
	flags []byte // the flags token in decimal, as text replies carry it
	cas   []byte // the cas in decimal; nil when the reply carried none (get)
	data  []byte
	owner *downstream
	gen   uint64
}

// newFrontCache returns the bucket's cache, or nil when it is off.
func newFrontCache(beh *Behavior, stats *counters) *frontCache {
	if beh.FrontCacheMax <= 0 || beh.FrontCacheLifespan <= 0 || beh.FrontCacheSpec == "" {
		return nil
	}
	maxBytes := int64(beh.FrontCacheBytes)
	if maxBytes <= 0 {
		maxBytes = DefaultFrontCacheBytes
	}
	c, err := ristretto.NewCache(&ristretto.Config[string, cachedValue]{
		NumCounters: int64(10 * beh.FrontCacheMax), MaxCost: maxBytes, BufferItems: 64, Metrics: true,
	})
	if err != nil {
		return nil // only for a bad config, which the checks above exclude
	}
	return &frontCache{c: c, beh: beh, stats: stats, spec: beh.FrontCacheSpec, unspec: beh.FrontCacheUnspec}
}

// DefaultFrontCacheBytes bounds a front cache's memory when
// front_cache_bytes is not set.
const DefaultFrontCacheBytes = 64 << 20

func (f *frontCache) cacheable(key []byte) bool {
	return hasAnyPrefix(key, f.spec) && !hasAnyPrefix(key, f.unspec)
}

// get returns key's entry when the cache holds it for a reply that
// needs a cas (withCas) or not, counting the hit or miss.
func (f *frontCache) get(key []byte, withCas bool) (cachedValue, bool) {
	if !f.cacheable(key) {
		return cachedValue{}, false
	}
	v, ok := f.c.Get(string(key))
	if !ok || (withCas && v.cas == nil) || v.owner.cacheGen.Load() != v.gen {
		f.stats.inc(totFrontCacheMisses)
		return cachedValue{}, false
	}
	f.stats.inc(totFrontCacheHits)
	return v, true
}

// lookup returns the VALUE block a get (or, withCas, a gets) of key
// would get, when the cache holds it.
func (f *frontCache) lookup(key []byte, withCas bool) ([]byte, bool) {
	v, ok := f.get(key, withCas)
	if !ok {
		return nil, false
	}
	return v.block(key, withCas), true
}

// learnBlock adds the value of a VALUE block that owner sent.
func (f *frontCache) learnBlock(key, block []byte, owner *downstream, epoch uint64) {
	if !f.cacheable(key) || f.epoch.Load() != epoch {
		return
	}
	if v, ok := parseValueBlock(block); ok {
		f.learn(key, v, owner, epoch)
	}
}

// learn adds v, which owner sent, when nothing was dropped since epoch.
// It adds only (as the original), except that an entry with a cas
// replaces one without: a gets, a meta get with c and binary clients
// need the cas.
func (f *frontCache) learn(key []byte, v cachedValue, owner *downstream, epoch uint64) {
	if old, have := f.c.Get(string(key)); have && (old.cas != nil || v.cas == nil) && old.gen == old.owner.cacheGen.Load() {
		return
	}
	v.owner, v.gen = owner, owner.cacheGen.Load()
	cost := int64(len(key) + len(v.data) + len(v.flags) + len(v.cas) + 96)
	f.learnMu.RLock()
	defer f.learnMu.RUnlock()
	if f.epoch.Load() == epoch && f.c.SetWithTTL(string(key), v, cost, f.beh.FrontCacheLifespan) {
		f.stats.inc(totFrontCacheAdds)
	}
}

// drop forgets key: a command through the proxy may change it. Only a
// cacheable key can be cached, so only those cost the wait. share tells
// the fleet too (done once the change is).
func (f *frontCache) drop(key []byte, share bool) {
	if !f.cacheable(key) {
		return
	}
	if share && f.share != nil {
		f.share(key)
	}
	f.bumpEpoch()
	f.c.Wait() // Sets queued before the bump land now, then go
	f.c.Del(string(key))
	f.stats.inc(totFrontCacheDeletes)
}

// dropAll forgets everything (flush_all, a new map); share tells the
// fleet too.
func (f *frontCache) dropAll(share bool) {
	if share && f.share != nil {
		f.share(nil)
	}
	f.bumpEpoch()
	f.c.Wait()
	f.c.Clear()
}

// dropMoved forgets the entries of servers whose keys moved (a new
// map): their generation moves on, so their entries no longer serve,
// and the epoch too, so gets in flight under the old map learn nothing.
func (f *frontCache) dropMoved(servers []*downstream) {
	if len(servers) == 0 {
		return
	}
	f.bumpEpoch()
	for _, s := range servers {
		s.cacheGen.Add(1)
	}
}

func (f *frontCache) bumpEpoch() {
	f.learnMu.Lock()
	f.epoch.Add(1)
	f.learnMu.Unlock()
}

// forgetText drops what a text command may change: the keys of every
// command but a plain get or gets (gat and touch change TTLs, mg with T
// or N may too), everything on flush_all.
func (f *frontCache) forgetText(cmd *ascii.Request, share bool) {
	switch cmd.Op {
	case ascii.OpGet, ascii.OpGets, ascii.OpStats, ascii.OpVersion, ascii.OpVerbosity,
		ascii.OpQuit, ascii.OpMetaNoop, ascii.OpMetaDebug:
		return
	case ascii.OpFlushAll:
		f.dropAll(share)
		return
	case ascii.OpGat, ascii.OpGats:
		for _, k := range cmd.Keys {
			f.drop(k, share)
		}
		return
	case ascii.OpMetaGet:
		if !cmd.Meta.Has('T') && !cmd.Meta.Has('N') {
			return
		}
	}
	if len(cmd.Key) > 0 {
		f.drop(cmd.Key, share)
	}
}

// forgetBinary drops what a binary command may change: the key of any
// command but the get family, everything on FLUSH.
func (f *frontCache) forgetBinary(p *binproto.Packet, share bool) {
	switch {
	case p.Opcode.Loud() == binproto.OpFlush:
		f.dropAll(share)
	case len(p.Key) > 0 && !cacheableGet(p.Opcode): // GAT changes the TTL: dropped like text gat
		f.drop(p.Key, share)
	}
}

// forgetChanged drops, once a request is done and before its reply is
// released, what it may have changed. The drop at dispatch is not enough:
// a get dispatched after it can still reach the server before the change
// does, on another connection, and learn the old value; dropping again
// here (and bumping the epoch that get must still be in) keeps that value
// out of the cache once the client hears its change is done.
func (r *request) forgetChanged() {
	if r.b == nil || r.b.fc == nil {
		return
	}
	fc := r.b.fc
	switch {
	case !r.binary:
		fc.forgetText(&r.cmd, true)
	case r.quiet == 0:
		fc.forgetBinary(&r.bin, true)
	default:
		for _, gp := range r.packets {
			var p binproto.Packet
			p.Opcode = binproto.Opcode(r.raw[gp.off+1])
			p.Key = r.raw[gp.keyOff:gp.keyEnd]
			fc.forgetBinary(&p, true)
		}
	}
}

// DropShared drops key (nil: everything) from the front cache of bucket
// (port, name): another node of the fleet saw it changed. It is not told
// onwards.
func (s *Server) DropShared(port int, bucket string, key []byte) {
	for _, b := range s.allBuckets() {
		if b.cfg.Port != port || b.cfg.Name != bucket || b.fc == nil {
			continue
		}
		if key == nil {
			b.fc.dropAll(false)
		} else {
			b.fc.drop(key, false)
		}
	}
}

// shareDrops wires b's front cache to deps.OnDrop.
func (s *Server) shareDrops(b *bucket) {
	if b.fc == nil || s.deps.OnDrop == nil {
		return
	}
	port, name, onDrop := b.cfg.Port, b.cfg.Name, s.deps.OnDrop
	b.fc.share = func(key []byte) { onDrop(port, name, key) }
}

// sample reads the cache's figures for an exporter.
func (f *frontCache) sample(port int, bucket string) FrontCacheSample {
	m := f.c.Metrics
	return FrontCacheSample{
		Port: port, Bucket: bucket,
		Hits: f.stats.get(totFrontCacheHits), Misses: f.stats.get(totFrontCacheMisses),
		Adds: f.stats.get(totFrontCacheAdds), Evictions: m.KeysEvicted(),
		Bytes: uint64(max(f.c.MaxCost()-f.c.RemainingCost(), 0)),
	}
}
