package memserver

// ttlOrder resolves the meta flags T and N, which both set the TTL and are
// applied in request order by memcached: N only when the item was created.
type ttlOrder struct {
	touch      bool  // T given
	exptime    int64 // T value (protocol)
	vivify     bool  // N given
	vivExptime int64 // N value (protocol)
	nAfterT    bool  // N appears after T
}

// final returns the protocol exptime to apply, if any.
func (o ttlOrder) final(created bool) (int64, bool) {
	useN := o.vivify && created
	switch {
	case useN && (o.nAfterT || !o.touch):
		return o.vivExptime, true
	case o.touch:
		return o.exptime, true
	}
	return 0, false
}

// mgReq is the store side of mg.
type mgReq struct {
	key      []byte
	binKey   bool
	noUpdate bool // u
	ttl      ttlOrder
	recache  bool  // R given
	recacheT int64 // R value (protocol)
}

// mgResult is a snapshot for building the mg reply outside the lock.
type mgResult struct {
	found     bool
	created   bool
	view      itemView
	expBefore int64 // absolute; before T/N
	expT      int64 // absolute T value
	expN      int64 // absolute N value
	atime     int64 // last access before this request
	now       int64
	fetched   bool // hit before this request
	tokenSent bool // Z
	stale     bool // X
	won       bool // W
}

// metaGet serves mg, including N (vivify on miss), T, R and the win-token
// state memcached keeps per item.
func (s *store) metaGet(r *mgReq) mgResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.unixNow()
	res := mgResult{now: now, expT: absExptime(now, r.ttl.exptime), expN: absExptime(now, r.ttl.vivExptime)}
	it := s.lookup(r.key, now)
	s.countMetaGet(it != nil || r.ttl.vivify, r.ttl.touch)
	if it != nil {
		s.classOf(it).hit(r.ttl.touch)
	}
	if it == nil && r.ttl.vivify {
		it = newItem(r.key, nil)
		it.binKey = r.binKey
		if !s.link(it, nil, now) {
			it = nil
		} else {
			res.created = true
		}
	}
	if it == nil {
		return res
	}
	res.found = true
	res.expBefore, res.atime, res.fetched = it.exp, it.atime, it.fetched
	if e, ok := r.ttl.final(res.created); ok {
		it.exp = absExptime(now, e)
	}
	res.tokenSent, res.stale = it.tokenSent, it.stale
	res.won = res.created ||
		(r.recache && !it.tokenSent && it.exp != 0 && it.exp < absExptime(now, r.recacheT)) ||
		(it.stale && !it.tokenSent)
	if res.won {
		it.tokenSent = true
	}
	if !r.noUpdate {
		s.bump(it, now)
	}
	res.view = viewOf(it)
	return res
}

func (s *store) countMetaGet(hit, touch bool) {
	switch {
	case touch && hit:
		s.st.cmdTouch++
		s.st.touchHits++
	case touch:
		s.st.cmdTouch++
		s.st.touchMisses++
	case hit:
		s.st.cmdGet++
		s.st.getHits++
	default:
		s.st.cmdGet++
		s.st.getMisses++
	}
}

// mdResult is the outcome of md.
type mdResult uint8

const (
	mdDeleted mdResult = iota
	mdNotFound
	mdExists
)

// mdReq is the store side of md.
type mdReq struct {
	key     []byte
	hasCas  bool
	cas     uint64
	stale   bool // I: mark stale and bump CAS instead of deleting
	touch   bool // T with I
	exptime int64
}

// metaDelete serves md.
func (s *store) metaDelete(r *mdReq) mdResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.unixNow()
	it := s.lookup(r.key, now)
	switch {
	case it == nil:
		s.st.deleteMisses++
		return mdNotFound
	case r.hasCas && it.cas != r.cas:
		s.st.deleteMisses++
		return mdExists
	case r.stale:
		if r.touch {
			it.exp = absExptime(now, r.exptime)
		}
		it.stale, it.tokenSent = true, false
		it.cas = s.nextCas()
		return mdDeleted
	}
	s.st.deleteHits++
	s.classOf(it).deleteHits++
	s.unlink(it)
	return mdDeleted
}

// debugInfo is what "me" reports.
type debugInfo struct {
	key     string
	binKey  bool
	exp     int64 // memcached prints now-exptime, -1 for never
	la      int64
	cas     uint64
	fetched bool
	size    int64
}

// debug serves me; it does not bump the item.
func (s *store) debug(key []byte) (debugInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.unixNow()
	it := s.lookup(key, now)
	if it == nil {
		return debugInfo{}, false
	}
	d := debugInfo{key: it.key, binKey: it.binKey, exp: -1, la: now - it.atime,
		cas: it.cas, fetched: it.fetched, size: it.size()}
	if it.exp != 0 {
		d.exp = now - it.exp
	}
	return d, true
}
