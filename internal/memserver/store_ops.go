package memserver

// storeMode selects the semantics of a storage command.
type storeMode uint8

const (
	modeSet storeMode = iota
	modeAdd
	modeReplace
	modeAppend
	modePrepend
	modeCas
)

// storeResult is the outcome of a storage command.
type storeResult uint8

const (
	resStored storeResult = iota
	resNotStored
	resExists
	resNotFound
	resNoMemory
)

// storeReq is one storage request. exptime is the protocol value.
type storeReq struct {
	mode    storeMode
	key     []byte
	value   []byte
	flags   uint32
	exptime int64
	cas     uint64 // compare value: always for modeCas; if non-zero for append/prepend
	stale   bool   // ms I: with modeCas, an older cas stores and marks stale
	binKey  bool
	// dropOnNoMemory makes a failed allocation drop the old item whatever
	// the mode (ms, binary set), not only for a classic set.
	dropOnNoMemory bool
}

// set stores r and returns the result and, when stored, the new CAS.
func (s *store) set(r *storeReq) (storeResult, uint64) {
	it := newItem(r.key, r.value) // allocated outside the lock
	it.flags, it.binKey = r.flags, r.binKey
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.cmdSet++
	s.classOf(it).cmdSet++
	now := s.unixNow()
	it.exp = absExptime(now, r.exptime)
	// memcached allocates the new item before it looks at the old one, so
	// running out of memory wins over NOT_STORED and friends.
	if !s.makeRoom(it.size(), it.size(), nil) {
		s.st.storeNoMemory++
		if old := s.lookup(r.key, now); old != nil && (r.mode == modeSet || r.dropOnNoMemory) {
			s.unlink(old) // never leave the previous value visible
		}
		return resNoMemory, 0
	}
	old := s.lookup(r.key, now)
	res := s.apply(r, it, old, now)
	if res != resStored {
		return res, 0
	}
	return resStored, s.items[string(r.key)].cas
}

func (s *store) apply(r *storeReq, it, old *item, now int64) storeResult {
	switch {
	case r.mode == modeAdd && old != nil:
		s.moveToFront(old) // memcached bumps the existing item
		return resNotStored
	case old == nil && (r.mode == modeReplace || r.mode == modeAppend || r.mode == modePrepend):
		return resNotStored
	case r.mode == modeCas:
		return s.applyCas(r, it, old, now)
	case r.mode == modeAppend || r.mode == modePrepend:
		return s.applyConcat(r, old, now)
	}
	if !s.link(it, old, now) {
		return resNotStored
	}
	return resStored
}

func (s *store) applyCas(r *storeReq, it, old *item, now int64) storeResult {
	switch {
	case old == nil:
		s.st.casMisses++
		return resNotFound
	case old.cas == r.cas:
		s.st.casHits++
		s.classOf(old).casHits++
	case r.stale && r.cas < old.cas:
		// A stale write keeps the TTL and token state of the newer item.
		it.exp, it.stale, it.tokenSent = old.exp, true, old.tokenSent
		s.st.casHits++
		s.classOf(old).casHits++
	default:
		s.st.casBadval++
		s.classOf(old).casBadval++
		return resExists
	}
	if !s.link(it, old, now) {
		return resNotStored
	}
	return resStored
}

func (s *store) applyConcat(r *storeReq, old *item, now int64) storeResult {
	if r.cas != 0 && r.cas != old.cas {
		return resExists
	}
	// memcached allocates the joined item first and answers NOT_STORED,
	// leaving the old one as it was, when it would pass the item size
	// limit (-I).
	if s.maxItem > 0 && itemSize(len(old.key), len(old.value)+len(r.value), old.flags) > s.maxItem {
		return resNotStored
	}
	var it *item
	if r.mode == modeAppend {
		it = newItemConcat(old.key, old.value, r.value)
	} else {
		it = newItemConcat(old.key, r.value, old.value)
	}
	it.flags, it.exp, it.binKey = old.flags, old.exp, old.binKey || r.binKey
	if !s.link(it, old, now) {
		return resNotStored
	}
	return resStored
}

// itemView is a snapshot of an item handed out of the lock. value is
// immutable (see item).
type itemView struct {
	key    string
	value  []byte
	flags  uint32
	cas    uint64
	binKey bool
}

func viewOf(it *item) itemView {
	return itemView{key: it.key, value: it.value, flags: it.flags, cas: it.cas, binKey: it.binKey}
}

// get serves get/gets, and gat/gats when touch is set.
func (s *store) get(key []byte, touch bool, exptime int64) (itemView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.unixNow()
	it := s.lookup(key, now)
	if touch {
		s.st.cmdTouch++
	} else {
		s.st.cmdGet++
	}
	if it == nil {
		if touch {
			s.st.touchMisses++
		} else {
			s.st.getMisses++
		}
		return itemView{}, false
	}
	if touch {
		s.st.touchHits++
		it.exp = absExptime(now, exptime)
	} else {
		s.st.getHits++
	}
	s.classOf(it).hit(touch)
	s.bump(it, now)
	return viewOf(it), true
}

// touch sets a new exptime on an existing item.
func (s *store) touch(key []byte, exptime int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.unixNow()
	s.st.cmdTouch++
	it := s.lookup(key, now)
	if it == nil {
		s.st.touchMisses++
		return false
	}
	s.st.touchHits++
	s.classOf(it).touchHits++
	it.exp = absExptime(now, exptime)
	s.bump(it, now)
	return true
}

// delete removes key and reports whether it existed.
func (s *store) delete(key []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.lookup(key, s.unixNow())
	if it == nil {
		s.st.deleteMisses++
		return false
	}
	s.st.deleteHits++
	s.classOf(it).deleteHits++
	s.unlink(it)
	return true
}

// stats returns a copy of the counters and the current occupancy.
func (s *store) stats() (st storeStats, items int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applyFlush(s.unixNow())
	return s.st, len(s.items), s.used
}

// resetStats implements "stats reset".
func (s *store) resetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st = storeStats{}
}
