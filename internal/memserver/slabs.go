package memserver

// memcached's slab classes, as "stats slabs", "stats items", "stats
// cachedump" and "me ... cls=" show them. This server keeps items in one
// LRU, not in slabs, but it reports them by the class memcached would
// have put them in, so that tools reading those stats see memcached's
// shape: chunk sizes from 96 bytes growing by a factor of 1.25, 8-byte
// aligned, up to slab_chunk_max (512 KiB), and 1 MiB pages.

const (
	slabPageSize    = 1 << 20
	slabChunkMax    = slabPageSize / 2
	numSlabClasses  = 39 // classes of memcached 1.6 with -n 48 -f 1.25
	firstChunkSize  = 96
	slabGrowthNumer = 5 // 1.25 = 5/4
	slabGrowthDenom = 4
)

// chunkSize returns class cls's chunk size (cls from 1).
func chunkSize(cls int) int64 {
	chunk := int64(firstChunkSize)
	for range cls - 1 {
		chunk = (chunk*slabGrowthNumer/slabGrowthDenom + 7) &^ 7
	}
	return min(chunk, slabChunkMax)
}

// slabClass is the class of an item of size bytes (itemSize): the first
// whose chunk holds it, the last for larger items (memcached chains
// chunks of the largest class for those).
func slabClass(size int64) int {
	cls, chunk := 1, int64(firstChunkSize)
	for chunk < size && chunk < slabChunkMax {
		chunk = (chunk*slabGrowthNumer/slabGrowthDenom + 7) &^ 7
		cls++
	}
	return cls
}

// slabCounters are memcached's per-class counters of "stats slabs".
type slabCounters struct {
	getHits, cmdSet, deleteHits, incrHits, decrHits, casHits, casBadval, touchHits uint64
}

func (c *slabCounters) hit(touch bool) {
	if touch {
		c.touchHits++
	} else {
		c.getHits++
	}
}

func (c *slabCounters) arith(incr bool) {
	if incr {
		c.incrHits++
	} else {
		c.decrHits++
	}
}

// classOf returns the counters of it's class. Called with mu held.
func (s *store) classOf(it *item) *slabCounters {
	return &s.st.cls[min(slabClass(it.size()), numSlabClasses)]
}

// classReport is one class's share of the items, for the stats groups.
type classReport struct {
	count     int
	requested int64 // sum of item sizes (mem_requested)
	oldest    int64 // last access of its least recently used item, unix seconds
}

// classReports scans the items from the least recently used up and
// reports each class that has any, with the time now. O(items), as
// memcached's own walk of its classes is O(classes): fine for a stats
// command of the built-in server.
func (s *store) classReports() (reports [numSlabClasses + 1]classReport, counters storeStats, now int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now = s.unixNow()
	s.applyFlush(now)
	for it := s.tail; it != nil; it = it.prev {
		size := it.size()
		r := &reports[min(slabClass(size), numSlabClasses)]
		if r.count == 0 {
			r.oldest = it.atime
		}
		r.count++
		r.requested += size
	}
	return reports, s.st, now
}

// cachedump lists up to limit items of class cls (0: all that fit in 2
// MiB of output, as memcached caps it), most recently used first, as
// "ITEM key [bytes b; exptime s]" lines.
func (s *store) cachedump(cls, limit int) []byte {
	const maxDump = 2 << 20
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []byte
	n := 0
	for it := s.head; it != nil && (limit == 0 || n < limit); it = it.next {
		if min(slabClass(it.size()), numSlabClasses) != cls {
			continue
		}
		line := fmtItemLine(it)
		if len(out)+len(line) > maxDump {
			break
		}
		out = append(out, line...)
		n++
	}
	return out
}
