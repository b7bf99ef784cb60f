package memserver

import "strconv"

func appendUint(b []byte, n uint64) []byte { return strconv.AppendUint(b, n, 10) }

// isSpace is C's isspace in the "C" locale.
func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// parseCounter reads a stored value the way memcached's safe_strtoull does:
// leading white space and a sign are accepted, the digits must be followed
// by white space or the end of the value, and a negative number is refused
// unless it is -0. The end of the value counts as white space because
// memcached stores it followed by "\r\n".
func parseCounter(b []byte) (uint64, bool) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == start || (i < len(b) && !isSpace(b[i])) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[start:i]), 10, 64)
	if err != nil {
		return 0, false // ERANGE
	}
	if neg {
		v = -v
		if int64(v) < 0 {
			return 0, false
		}
	}
	return v, true
}

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

// parseU64 is memcached's safe_strtoull on a whole token.
func parseU64(b []byte) (uint64, bool) {
	if len(b) == 0 || isSpace(b[0]) {
		return 0, false
	}
	return parseCounter(b)
}

// parseU32 is memcached's safe_strtoul: a 64-bit parse truncated to 32 bits.
func parseU32(b []byte) (uint32, bool) {
	v, ok := parseU64(b)
	return uint32(v), ok
}

// parseI32 is memcached's safe_strtol.
func parseI32(b []byte) (int64, bool) {
	v, err := strconv.ParseInt(string(b), 10, 32)
	return v, err == nil
}
