package proxycore

import (
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moxifleet/moxi/mapstore"
)

// bucket is the running state of one proxied bucket: its behavior, its
// statistics, its concurrency limit and the servers of its current map.
type bucket struct {
	cfg   Bucket
	beh   *Behavior
	stats counters
	cmds  commandCounts // moxi_commands_total
	// latency is the request latency histogram of requests a server or
	// the front cache answered.
	latency latencyHist
	sem     chan struct{} // downstream_max tokens; nil means unlimited
	logger  *slog.Logger

	isNull bool     // the NULL bucket: proxied commands are refused
	pool   *poolMap // a pool's bucket: its map, set by ApplyPool

	fc    *frontCache // nil unless -Z front_cache_* turn it on
	ks    *keyStats   // nil unless -Z key_stats_* turn it on
	route atomic.Pointer[routing]
	mu    sync.Mutex             // guards servers and rebuilding route
	byAdr map[string]*downstream // every server this bucket has used
}

// routing pairs a map with the server objects of its entries, by index.
type routing struct {
	m       *mapstore.Map
	servers []*downstream
}

func newBucket(cfg Bucket, threads int, lg *slog.Logger) *bucket {
	b := &bucket{cfg: cfg, logger: lg, byAdr: make(map[string]*downstream)}
	b.beh = &b.cfg.Behavior
	b.fc = newFrontCache(b.beh, &b.stats)
	b.ks = newKeyStats(b.beh)
	if n := b.beh.DownstreamMax; n > 0 {
		// moxi's limit is per worker thread; keep the total the same.
		b.sem = make(chan struct{}, n*max(threads, 1))
	}
	return b
}

// routing returns the routing for the map in force, rebuilding it when the
// MapSource has moved on. Servers that stay keep their connections. One
// request rebuilds; requests arriving meanwhile carry on with the old
// routing rather than wait, so a new map never pauses traffic (a request
// routed by the old map at worst meets NOT_MY_VBUCKET and retries).
func (b *bucket) routing() *routing {
	m := b.cfg.Maps.Current()
	rt := b.route.Load()
	if rt != nil && rt.m == m {
		return rt
	}
	if m == nil {
		return nil
	}
	if rt == nil {
		b.mu.Lock()
	} else if !b.mu.TryLock() {
		return rt
	}
	defer b.mu.Unlock()
	if rt := b.route.Load(); rt != nil && rt.m == m {
		return rt
	}
	rt = &routing{m: m, servers: make([]*downstream, len(m.Servers))}
	for i, s := range m.Servers {
		rt.servers[i] = b.serverFor(s, m)
	}
	old := b.route.Swap(rt)
	if old != nil && b.fc != nil {
		// Each node sees the map, so this is not told to the fleet.
		b.fc.dropMoved(movedDownstreams(old, rt))
	}
	b.drainLeavers(rt)
	return rt
}

// drainLeavers closes, after a grace period for requests in flight, the
// connections of servers the new routing no longer names. Called with mu
// held.
func (b *bucket) drainLeavers(rt *routing) {
	keep := make(map[*downstream]bool, len(rt.servers))
	for _, s := range rt.servers {
		keep[s] = true
	}
	for addr, s := range b.byAdr {
		if !keep[s] {
			delete(b.byAdr, addr)
			b.logger.Info("server left the map; draining", "server", addr)
			b.retire(s)
		}
	}
}

// retire closes a server's connections once requests in flight on them
// have had downstream_timeout (or 5 s) to finish.
func (b *bucket) retire(s *downstream) {
	s.cacheGen.Add(1) // its front cache entries go with it
	grace := b.beh.DownstreamTimeout
	if grace <= 0 {
		grace = 5 * time.Second
	}
	time.AfterFunc(grace, s.close)
}

func (b *bucket) serverFor(s mapstore.Server, m *mapstore.Map) *downstream {
	srv := newDownstream(s, b.beh, &b.stats, b.logger)
	srv.usr, srv.pwd = mapCredentials(m, b.beh)
	if old, ok := b.byAdr[srv.addr]; ok {
		if old.usr == srv.usr && old.pwd == srv.pwd {
			return old
		}
		b.retire(old) // new credentials: new connections
	}
	b.byAdr[srv.addr] = srv
	return srv
}

// acquire takes a downstream_max token, waiting up to wait_queue_timeout.
func (b *bucket) acquire() bool {
	if b.sem == nil {
		return true
	}
	select {
	case b.sem <- struct{}{}:
		return true
	default:
	}
	wait := b.beh.WaitQueueTimeout
	if wait <= 0 {
		b.sem <- struct{}{}
		return true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case b.sem <- struct{}{}:
		return true
	case <-t.C:
		b.stats.inc(totWaitQueueTimeout)
		return false
	}
}

func (b *bucket) release() {
	if b.sem != nil {
		<-b.sem
	}
}

func (b *bucket) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.byAdr {
		s.close()
	}
	if b.fc != nil {
		b.fc.c.Close() // its goroutines end; a closed cache misses and keeps nothing
	}
}

// mapCredentials is the SASL login for a map's servers: a bucket config
// names its bucket (the user, "" for "default") and saslPassword; -Z
// usr/pwd fill in what it leaves out, as moxi fell back to the pool's.
func mapCredentials(m *mapstore.Map, beh *Behavior) (usr, pwd string) {
	usr, pwd = beh.Usr, beh.Pwd
	if m.User != "" {
		usr = m.User
	}
	if m.HasPassword {
		pwd = m.Password
	}
	return usr, pwd
}

// movedDownstreams returns the servers, of the old routing or the new,
// whose keys moved between their maps (mapstore.MovedServers).
func movedDownstreams(old, cur *routing) []*downstream {
	addrs := mapstore.MovedServers(old.m, cur.m)
	if len(addrs) == 0 {
		return nil
	}
	var out []*downstream
	seen := map[*downstream]bool{}
	for _, rt := range []*routing{old, cur} {
		for _, s := range rt.servers {
			if !seen[s] && slices.Contains(addrs, s.addr) {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}
