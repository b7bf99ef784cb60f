package memserver

// deleteCas serves the binary delete, whose non-zero CAS must match the
// item's. Like memcached it counts a mismatch as neither hit nor miss.
func (s *store) deleteCas(key []byte, cas uint64) mdResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.lookup(key, s.unixNow())
	switch {
	case it == nil:
		s.st.deleteMisses++
		return mdNotFound
	case cas != 0 && cas != it.cas:
		return mdExists
	}
	s.st.deleteHits++
	s.classOf(it).deleteHits++
	s.unlink(it)
	return mdDeleted
}

// drop unlinks key if present. memcached does this when a set fails
// before storing (its value is too large), so that the old value does not
// stay readable as if the set had never been sent.
func (s *store) drop(key []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.storeTooLarge++ // drop follows every set refused as too large
	if it := s.lookup(key, s.unixNow()); it != nil {
		s.unlink(it)
	}
}
