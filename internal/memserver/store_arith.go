package memserver

import "github.com/moxifleet/moxi/internal/ascii"

// arithCode is the outcome of incr/decr/ma.
type arithCode uint8

const (
	arithOK arithCode = iota
	arithNonNumeric
	arithNotFound
	arithExists
	arithNoMemory
	arithNoMemoryNew // ma N could not create the item
)

// arithReq is one incr, decr or ma.
type arithReq struct {
	key     []byte
	binKey  bool
	incr    bool
	delta   uint64
	cas     uint64 // ma C; 0 = no compare
	initial uint64 // ma J, with ttl.vivify
	ttl     ttlOrder
}

// arithResult carries what the replies need.
type arithResult struct {
	code      arithCode
	reply     []byte // the new value, unpadded
	value     uint64 // the new value
	cas       uint64
	created   bool
	expBefore int64 // absolute, before T/N
	expT      int64
	expN      int64
	now       int64
}

// arith serves incr, decr and ma.
func (s *store) arith(r *arithReq) arithResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.unixNow()
	res := arithResult{now: now, expT: absExptime(now, r.ttl.exptime), expN: absExptime(now, r.ttl.vivExptime)}
	it := s.lookup(r.key, now)
	if it == nil {
		return s.arithMiss(r, res, now)
	}
	// memcached checks emptiness, then CAS, then the number.
	if len(it.value) == 0 {
		res.code = arithNonNumeric
		return res
	}
	if r.cas != 0 && it.cas != r.cas {
		res.code = arithExists
		return res
	}
	v, ok := ascii.ParseUint64(it.value)
	if !ok {
		res.code = arithNonNumeric
		return res
	}
	nv := applyDelta(v, r.incr, r.delta)
	stored, reply := counterValue(nv, len(it.value))
	nit := newItem([]byte(it.key), stored)
	nit.flags, nit.exp, nit.binKey, nit.fetched = it.flags, it.exp, it.binKey, it.fetched
	if !s.link(nit, it, now) {
		res.code = arithNoMemory
		return res
	}
	s.countArith(true, r.incr)
	s.classOf(nit).arith(r.incr)
	res.expBefore = nit.exp
	if e, ok := r.ttl.final(false); ok {
		nit.exp = absExptime(now, e)
	}
	res.reply, res.value, res.cas = reply, nv, nit.cas
	return res
}

func (s *store) arithMiss(r *arithReq, res arithResult, now int64) arithResult {
	if !r.ttl.vivify {
		s.countArith(false, r.incr)
		res.code = arithNotFound
		return res
	}
	reply := appendUint(nil, r.initial)
	it := newItem(r.key, reply)
	it.binKey = r.binKey
	if !s.link(it, nil, now) {
		res.code = arithNoMemoryNew // ma N could not create the item
		return res
	}
	if e, ok := r.ttl.final(true); ok {
		it.exp = absExptime(now, e)
	}
	res.created, res.reply, res.value, res.cas = true, reply, r.initial, it.cas
	return res
}

func (s *store) countArith(hit, incr bool) {
	switch {
	case hit && incr:
		s.st.incrHits++
	case hit:
		s.st.decrHits++
	case incr:
		s.st.incrMisses++
	default:
		s.st.decrMisses++
	}
}
