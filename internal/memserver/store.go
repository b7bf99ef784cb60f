package memserver

import (
	"sync"
	"time"
)

// maxRelativeExptime is memcached's REALTIME_MAXDELTA: exptimes up to 30 days
// are relative seconds, larger ones absolute unix times.
const maxRelativeExptime = 60 * 60 * 24 * 30

// store is the item table: a map for lookup and an intrusive doubly linked
// list for LRU order, guarded by one mutex. Expiry and delayed flushes are
// applied lazily when an item is looked up (and at the LRU tail when memory
// is needed), as memcached does.
type store struct {
	mu       sync.Mutex
	items    map[string]*item
	head     *item // most recently used
	tail     *item // eviction candidate
	used     int64 // sum of item sizes
	maxBytes int64
	maxItem  int64 // largest item (itemSize) append/prepend may make; 0 = no limit
	noEvict  bool
	now      func() time.Time
	lastCas  uint64
	flushAt  int64 // pending delayed flush_all deadline; 0 = none
	st       storeStats
}

// storeStats are the counters kept under store.mu.
type storeStats struct {
	totalItems                         uint64
	evictions, reclaimed               uint64
	getHits, getMisses, getExpired     uint64
	getFlushed                         uint64
	cmdGet, cmdSet, cmdTouch           uint64
	cmdFlush                           uint64
	deleteHits, deleteMisses           uint64
	incrHits, incrMisses               uint64
	decrHits, decrMisses               uint64
	casHits, casMisses, casBadval      uint64
	touchHits, touchMisses             uint64
	storeTooLarge, storeNoMemory       uint64
	expiredUnfetched, evictedUnfetched uint64
	cls                                [numSlabClasses + 1]slabCounters // per slab class (stats slabs), index = class id
}

func newStore(maxBytes int64, noEvict bool, now func() time.Time) *store {
	return &store{
		items:    make(map[string]*item),
		maxBytes: maxBytes,
		noEvict:  noEvict,
		now:      now,
	}
}

func (s *store) unixNow() int64 { return s.now().Unix() }

// absExptime turns a protocol exptime into an absolute unix time following
// memcached's realtime(): 0 never expires, negative and past absolute times
// expire at once (1 is always in the past), small values are relative.
func absExptime(now, e int64) int64 {
	switch {
	case e == 0:
		return 0
	case e < 0:
		return 1
	case e <= maxRelativeExptime:
		return now + e
	case e <= now:
		return 1
	default:
		return e
	}
}

func (s *store) nextCas() uint64 {
	s.lastCas++
	return s.lastCas
}

// lookup returns the live item for key, unlinking it if it has expired or
// was flushed. It does not touch LRU order.
func (s *store) lookup(key []byte, now int64) *item {
	s.applyFlush(now)
	it := s.items[string(key)]
	if it == nil {
		return nil
	}
	if it.exp != 0 && it.exp <= now {
		if !it.fetched {
			s.st.expiredUnfetched++
		}
		s.st.getExpired++
		s.unlink(it)
		return nil
	}
	return it
}

// bump records an access: memcached's ITEM_FETCHED and LRU move.
func (s *store) bump(it *item, now int64) {
	it.fetched = true
	it.atime = now
	s.moveToFront(it)
}

// applyFlush runs a delayed flush_all whose deadline has passed: every item
// stored before the deadline goes.
func (s *store) applyFlush(now int64) {
	if s.flushAt == 0 || now < s.flushAt {
		return
	}
	for it := s.tail; it != nil; {
		prev := it.prev
		if it.mtime <= s.flushAt {
			s.unlink(it)
			s.st.getFlushed++
		}
		it = prev
	}
	s.flushAt = 0
}

// flush implements flush_all [delay]. An immediate flush empties the table;
// a delayed one is applied lazily once its deadline passes. Like memcached
// it consumes a CAS id.
func (s *store) flush(delay int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.cmdFlush++
	s.nextCas()
	now := s.unixNow()
	if delay <= 0 {
		s.items = make(map[string]*item)
		s.head, s.tail, s.used = nil, nil, 0
		s.flushAt = 0
		return
	}
	s.flushAt = absExptime(now, delay) - 1
}

// link inserts a new item at the LRU head, replacing old if non-nil, after
// making room for it. It reports false when memory cannot be found.
func (s *store) link(it, old *item, now int64) bool {
	need := it.size()
	if old != nil {
		need -= old.size()
	}
	if !s.makeRoom(need, it.size(), old) {
		return false
	}
	if old != nil {
		s.unlink(old)
	}
	it.cas = s.nextCas()
	it.mtime = now
	if it.atime == 0 {
		it.atime = now
	}
	s.items[it.key] = it
	s.pushFront(it)
	s.used += it.size()
	s.st.totalItems++
	return true
}

// makeRoom frees LRU-tail items until need more bytes fit. Expired items
// are reclaimed even with NoEvict; live ones are evicted only without it.
// keep (the item being replaced) is never chosen.
func (s *store) makeRoom(need, total int64, keep *item) bool {
	if total > s.maxBytes {
		return false
	}
	now := s.unixNow()
	for s.used+need > s.maxBytes {
		victim := s.tail
		if victim == keep {
			victim = victim.prev
		}
		if victim == nil {
			return false
		}
		expired := victim.exp != 0 && victim.exp <= now
		switch {
		case expired:
			s.st.reclaimed++
		case s.noEvict:
			return false
		default:
			s.st.evictions++
			if !victim.fetched {
				s.st.evictedUnfetched++
			}
		}
		s.unlink(victim)
	}
	return true
}

func (s *store) unlink(it *item) {
	if s.items[it.key] == it {
		delete(s.items, it.key)
	}
	if it.prev != nil {
		it.prev.next = it.next
	} else if s.head == it {
		s.head = it.next
	}
	if it.next != nil {
		it.next.prev = it.prev
	} else if s.tail == it {
		s.tail = it.prev
	}
	it.prev, it.next = nil, nil
	s.used -= it.size()
}

func (s *store) pushFront(it *item) {
	it.prev, it.next = nil, s.head
	if s.head != nil {
		s.head.prev = it
	}
	s.head = it
	if s.tail == nil {
		s.tail = it
	}
}

func (s *store) moveToFront(it *item) {
	if s.head == it {
		return
	}
	// detach without touching the map or byte count
	it.prev.next = it.next
	if it.next != nil {
		it.next.prev = it.prev
	} else {
		s.tail = it.prev
	}
	s.pushFront(it)
}
