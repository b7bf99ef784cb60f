package proxycore

import (
	"container/list"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moxifleet/moxi/internal/ascii"
)

// keyStats counts, per key, what clients do with the hot keys (-Z
// key_stats_*): text gets, their hits and misses, and the commands that
// may change the key. On when key_stats_max, key_stats_lifespan and
// key_stats_spec are all set, as in the original, for keys starting with
// a spec prefix and no unspec prefix. At most key_stats_max keys are
// tracked (the least recently counted go first), and a key's counts
// start again after key_stats_lifespan. "stats proxy keystats" lists
// the busiest. Opt-in: counting takes the bucket's key stats lock.
type keyStats struct {
	beh *Behavior
	mu  sync.Mutex
	m   map[string]*list.Element // of *keyStat
	lru *list.List               // front = most recently counted
}

// keyStat is one key's counts since added.
type keyStat struct {
	key                      string
	added                    time.Time
	gets, hits, misses, sets uint64
}

func newKeyStats(beh *Behavior) *keyStats {
	if beh.KeyStatsMax <= 0 || beh.KeyStatsLifespan <= 0 || beh.KeyStatsSpec == "" {
		return nil
	}
	return &keyStats{beh: beh, m: map[string]*list.Element{}, lru: list.New()}
}

func (k *keyStats) tracked(key []byte) bool {
	return hasAnyPrefix(key, k.beh.KeyStatsSpec) && !hasAnyPrefix(key, k.beh.KeyStatsUnspec)
}

// entry returns key's counts, starting them (again) as needed. Called
// with mu held.
func (k *keyStats) entry(key []byte, now time.Time) *keyStat {
	if e, ok := k.m[string(key)]; ok {
		ks := e.Value.(*keyStat)
		if now.Sub(ks.added) <= k.beh.KeyStatsLifespan {
			k.lru.MoveToFront(e)
			return ks
		}
		*ks = keyStat{key: ks.key, added: now}
		k.lru.MoveToFront(e)
		return ks
	}
	for k.lru.Len() >= k.beh.KeyStatsMax {
		old := k.lru.Remove(k.lru.Back()).(*keyStat)
		delete(k.m, old.key)
	}
	ks := &keyStat{key: string(key), added: now}
	k.m[ks.key] = k.lru.PushFront(ks)
	return ks
}

// noteGet counts a get of key, a hit or a miss.
func (k *keyStats) noteGet(key []byte, hit bool) {
	if !k.tracked(key) {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	ks := k.entry(key, time.Now())
	ks.gets++
	if hit {
		ks.hits++
	} else {
		ks.misses++
	}
}

// noteSet counts a command that may change key.
func (k *keyStats) noteSet(key []byte) {
	if !k.tracked(key) {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.entry(key, time.Now()).sets++
}

// maxKeyStatsShown bounds "stats proxy keystats" per bucket.
const maxKeyStatsShown = 100

// write appends the busiest keys (by gets, then sets) as
// "<prefix>keystats:<key>:<count> N" lines.
func (k *keyStats) write(w *statWriter, prefix string) {
	now := time.Now()
	for _, ks := range k.top(maxKeyStatsShown) {
		p := prefix + "keystats:" + ks.key + ":"
		w.statUint(p+"gets", ks.gets)
		w.statUint(p+"hits", ks.hits)
		w.statUint(p+"misses", ks.misses)
		w.statUint(p+"sets", ks.sets)
		w.stat(p+"age_ms", strconv.FormatInt(now.Sub(ks.added).Milliseconds(), 10))
	}
}

// top returns the n busiest keys' counts, by gets, then sets, then key.
func (k *keyStats) top(n int) []keyStat {
	k.mu.Lock()
	all := make([]keyStat, 0, len(k.m))
	for _, e := range k.m {
		all = append(all, *e.Value.(*keyStat))
	}
	k.mu.Unlock()
	slices.SortFunc(all, func(a, b keyStat) int {
		if a.gets != b.gets {
			return int(int64(b.gets) - int64(a.gets))
		}
		if a.sets != b.sets {
			return int(int64(b.sets) - int64(a.sets))
		}
		return strings.Compare(a.key, b.key)
	})
	return all[:min(len(all), n)]
}

// mayChange reports whether a text command with a key may change it.
func mayChange(op ascii.Op) bool {
	switch op {
	case ascii.OpGet, ascii.OpGets, ascii.OpGat, ascii.OpGats, ascii.OpMetaGet, ascii.OpMetaDebug:
		return false
	}
	return true
}

// noteKeyStats counts a finished text get's keys, hit or miss.
func (r *request) noteKeyStats() {
	ks := r.b.ks
	if ks == nil || r.binary || !r.cmd.Op.IsRetrieval() {
		return
	}
	for _, si := range r.keySlots {
		s := &r.slots[si]
		ks.noteGet(s.key, s.cached != nil || (s.op != nil && s.op.status == opOK))
	}
}
