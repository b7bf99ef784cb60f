package memserver

import "bytes"

// Item is a copy of one stored item, detached from the server, for moving
// data between servers the way a membase cluster hands a vbucket's items
// to its new owner during a rebalance.
type Item struct {
	Key, Value []byte
	Flags      uint32
	Exptime    int64  // absolute unix seconds; 0 never expires
	CAS        uint64 // kept on import, so a client's gets/cas pair still works
}

// TakeItems removes every live item whose key match accepts and returns
// copies of them. match runs with the store locked and must not call the
// Server. Expired items are dropped, never returned.
func (s *Server) TakeItems(match func(key []byte) bool) []Item {
	return s.store.export(match, true)
}

// CopyItems is TakeItems without the removal.
func (s *Server) CopyItems(match func(key []byte) bool) []Item {
	return s.store.export(match, false)
}

// PutItems stores items with their flags, expiry and CAS, and returns how
// many it stored. A key already present is overwritten only when replace
// is set, so that a late sweep cannot clobber a newer write. Items already
// expired are skipped; memory is found as for a set (eviction, or failure
// with NoEvict). Later CAS ids stay above every imported one.
func (s *Server) PutItems(items []Item, replace bool) int {
	stored := 0
	for i := range items {
		if s.store.importItem(&items[i], replace) {
			stored++
		}
	}
	return stored
}

// export copies (and with take, unlinks) the live items match accepts.
func (s *store) export(match func(key []byte) bool, take bool) []Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.unixNow()
	s.applyFlush(now)
	var out []Item
	var key []byte
	for _, it := range s.items {
		if it.exp != 0 && it.exp <= now {
			s.unlink(it)
			continue
		}
		key = append(key[:0], it.key...)
		if !match(key) {
			continue
		}
		out = append(out, Item{Key: bytes.Clone(key), Value: bytes.Clone(it.value),
			Flags: it.flags, Exptime: it.exp, CAS: it.cas})
		if take {
			s.unlink(it)
		}
	}
	return out
}

// importItem links one exported item and reports whether it was stored.
func (s *store) importItem(in *Item, replace bool) bool {
	it := newItem(in.Key, in.Value) // allocated outside the lock
	it.flags, it.exp = in.Flags, in.Exptime
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.unixNow()
	if it.exp != 0 && it.exp <= now {
		return false
	}
	old := s.lookup(in.Key, now)
	if old != nil && !replace {
		return false
	}
	if !s.link(it, old, now) {
		return false
	}
	if in.CAS != 0 {
		it.cas = in.CAS
		s.lastCas = max(s.lastCas, in.CAS)
	}
	return true
}
