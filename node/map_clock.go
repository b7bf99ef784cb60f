package node

import (
	"sync"
	"time"

	"github.com/moxifleet/moxi/proxycore"
)

// mapClock remembers when a standalone proxy applied each bucket's map,
// for moxi_map_age_seconds: proxycore knows a map's version but not its
// time, and a fleet node has its /status records (fleet.info) instead.
// The zero value is ready to use; a nil *mapClock (a fleet node's REST
// feeds) records nothing.
type mapClock struct {
	mu sync.Mutex
	at map[mapKey]appliedMap
}

type mapKey struct {
	port   int
	bucket string
}

type appliedMap struct {
	version uint64
	at      time.Time
}

// note records that the bucket's map of the given version was applied at.
func (c *mapClock) note(port int, bucket string, version uint64, at time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at == nil {
		c.at = map[mapKey]appliedMap{}
	}
	c.at[mapKey{port, bucket}] = appliedMap{version: version, at: at}
}

// age is how long s's map has served at now. It reports false when the
// clock did not see that version applied (a bucket whose newer map
// the proxy took before the note), rather than guess.
func (c *mapClock) age(s proxycore.MapSample, now time.Time) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.at[mapKey{s.Port, s.Bucket}]
	if !ok || a.version != s.Version {
		return 0, false
	}
	return now.Sub(a.at), true
}

// noteStaticMaps records the maps a standalone proxy starts with (a -z
// host list or JSON file); REST buckets have none yet, their feeds note
// theirs as they apply them.
func (n *Node) noteStaticMaps(at time.Time) {
	for _, b := range n.proxyCfg.Buckets {
		if m := b.Maps.Current(); m != nil {
			n.clock.note(b.Port, b.Name, m.Version, at)
		}
	}
}
