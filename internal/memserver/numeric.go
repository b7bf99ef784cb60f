package memserver

import "strconv"

func appendUint(b []byte, n uint64) []byte { return strconv.AppendUint(b, n, 10) }

// applyDelta is memcached's incr/decr arithmetic: incr wraps at 2^64, decr
// stops at zero.
func applyDelta(v uint64, incr bool, delta uint64) uint64 {
	if incr {
		return v + delta
	}
	if delta > v {
		return 0
	}
	return v - delta
}

// counterValue renders n for storage. Like memcached's in-place update, a
// result no longer than the old value is space-padded to the old length.
func counterValue(n uint64, oldLen int) (stored, reply []byte) {
	reply = strconv.AppendUint(nil, n, 10)
	if len(reply) >= oldLen {
		return reply, reply
	}
	stored = make([]byte, oldLen)
	copy(stored, reply)
	for i := len(reply); i < oldLen; i++ {
		stored[i] = ' '
	}
	return stored, reply
}
