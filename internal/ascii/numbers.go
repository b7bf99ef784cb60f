package ascii

// memcached parses numbers with strtol/strtoul/strtoull (util.c safe_strto*)
// and then narrows the result with a C cast. The helpers below reproduce that
// exactly, because the quirks are visible to clients: "+5" and "-0" are
// accepted, a trailing "\r" or "\t" is ignored, flags of 4294967297 become 1
// and an exptime of 2147483648 becomes -2147483648.

// isCSpace reports whether c is white space for isspace(3) in the C locale.
func isCSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// scanC parses tok the way strtoull(3) does: leading white space, an
// optional sign, then decimal digits. It returns the magnitude and the sign.
// ok is false when there are no digits, when the magnitude overflows 64 bits
// (ERANGE) or when the digits are followed by something other than white
// space (memcached's own end check).
func scanC(tok []byte) (mag uint64, neg, ok bool) {
	i := 0
	for i < len(tok) && isCSpace(tok[i]) {
		i++
	}
	if i < len(tok) && (tok[i] == '+' || tok[i] == '-') {
		neg = tok[i] == '-'
		i++
	}
	start := i
	for ; i < len(tok) && tok[i] >= '0' && tok[i] <= '9'; i++ {
		d := uint64(tok[i] - '0')
		if mag > (^uint64(0)-d)/10 {
			return 0, false, false
		}
		mag = mag*10 + d
	}
	if i == start || (i < len(tok) && !isCSpace(tok[i])) {
		return 0, false, false
	}
	return mag, neg, true
}

// parseUint64 is memcached's safe_strtoull: a negative sign is accepted
// unless the wrapped result looks negative as a signed number.
func parseUint64(tok []byte) (uint64, bool) {
	mag, neg, ok := scanC(tok)
	if !ok {
		return 0, false
	}
	if !neg {
		return mag, true
	}
	v := -mag // strtoull negates in unsigned arithmetic
	if int64(v) < 0 {
		return 0, false
	}
	return v, true
}

// parseUint32 is memcached's safe_strtoul followed by the store into a
// uint32: the 64-bit result is truncated, not range checked.
func parseUint32(tok []byte) (uint32, bool) {
	v, ok := parseUint64(tok)
	return uint32(v), ok
}

// parseInt32 is memcached's safe_strtol: strtol(3) range checks against
// 64-bit long, then the value is truncated to int32_t.
func parseInt32(tok []byte) (int32, bool) {
	mag, neg, ok := scanC(tok)
	if !ok {
		return 0, false
	}
	if neg {
		if mag > 1<<63 {
			return 0, false
		}
		return int32(-int64(mag)), true // -(1<<63) wraps to itself, as in C
	}
	if mag > 1<<63-1 {
		return 0, false
	}
	return int32(int64(mag)), true
}

// ParseUint64 reads a number the way memcached's safe_strtoull does (see
// parseUint64): a token, or a stored value incr and decr count from (the
// end of the value counts as the white space memcached finds there).
func ParseUint64(tok []byte) (uint64, bool) { return parseUint64(tok) }

// ParseUint32 reads a numeric token the way memcached's safe_strtoul does,
// truncated to 32 bits (see parseUint32).
func ParseUint32(tok []byte) (uint32, bool) { return parseUint32(tok) }
