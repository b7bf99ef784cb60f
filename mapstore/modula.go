package mapstore

// modula is libmemcached's MEMCACHED_DISTRIBUTION_MODULA with its default
// hash: one_at_a_time(key) % N. Adding or removing a server moves almost
// every key; it exists for pools that were configured that way.
type modula struct {
	n uint32
}

func (m modula) locate(key []byte) int {
	return int(HashOneAtATime(key) % m.n)
}
