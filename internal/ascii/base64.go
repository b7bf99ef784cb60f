package ascii

// memcached decodes meta "b" keys with its own base64 routine (base64.c),
// which is laxer than encoding/base64: bytes outside the alphabet are
// skipped, "=" counts as a zero digit, and decoding stops after the first
// 4-digit block that holds padding. decodeBase64 is a port of it so that the
// same keys are accepted and decode to the same bytes.

// b64Invalid marks a byte that is not part of the base64 alphabet.
const b64Invalid = 0x80

// b64Value returns the 6-bit value of c, or b64Invalid. "=" is 0.
func b64Value(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A'
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26
	case c >= '0' && c <= '9':
		return c - '0' + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	case c == '=':
		return 0
	}
	return b64Invalid
}

// decodeBase64 appends the decoding of src to dst[:0]. ok is false where
// memcached's base64_decode returns 0 (no digits, a digit count that is not
// a multiple of 4, more than 2 padding characters in a block, or an empty
// result).
func decodeBase64(dst, src []byte) (out []byte, ok bool) {
	count := 0
	for _, c := range src {
		if b64Value(c) != b64Invalid {
			count++
		}
	}
	out = dst[:0]
	if count == 0 || count%4 != 0 {
		return out, false
	}
	var block [4]byte
	n, pad := 0, 0
	for _, c := range src {
		v := b64Value(c)
		if v == b64Invalid {
			continue
		}
		if c == '=' {
			pad++
		}
		block[n] = v
		n++
		if n < 4 {
			continue
		}
		out = append(out, block[0]<<2|block[1]>>4, block[1]<<4|block[2]>>2, block[2]<<6|block[3])
		n = 0
		if pad == 0 {
			continue
		}
		if pad > 2 {
			return out[:0], false
		}
		out = out[:len(out)-pad]
		break
	}
	return out, len(out) > 0
}
