package mapstore

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Small helpers over JSON text that json.Valid has already accepted (every
// input here is a slice of a validated document, except where a comment
// says otherwise). They let the parser
// type-check fields one by one, with libvbucket's messages, and walk a
// 65536-row vBucketMap with one validation pass and no allocation per row
// or per number: encoding/json's decoder rescans nested raw values at each
// level and made parsing 4-5 times slower.

// jsonKind returns the first byte of the value in raw after whitespace:
// '{', '[', '"', 't', 'f', 'n', or a number's first byte; 0 when raw is
// empty (the field was absent).
func jsonKind(raw []byte) byte {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}

// isNumberStart reports whether c can begin a JSON number.
func isNumberStart(c byte) bool { return c == '-' || (c >= '0' && c <= '9') }

// jsonString decodes raw when it is a JSON string.
func jsonString(raw []byte) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// jsonInt decodes raw when it is a JSON number with an integral value that
// fits an int32. cJSON would truncate 1.5 to 1; no server sends that, and
// refusing it is safer than guessing.
func jsonInt(raw []byte) (int, bool) { return parseInt(bytes.TrimSpace(raw)) }

// parseInt parses a JSON number token. Plain integers take a fast path;
// anything with a fraction or exponent goes through ParseFloat and must be
// integral.
func parseInt(tok []byte) (int, bool) {
	if len(tok) == 0 || !isNumberStart(tok[0]) {
		return 0, false
	}
	neg, d := tok[0] == '-', tok
	if neg {
		d = tok[1:]
	}
	if len(d) > 0 && len(d) <= 9 {
		v, ok := 0, true
		for _, c := range d {
			if c < '0' || c > '9' {
				ok = false
				break
			}
			v = v*10 + int(c-'0')
		}
		if ok {
			if neg {
				v = -v
			}
			return v, true
		}
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// arrayElems appends to dst the raw bytes of each element of the JSON
// array in raw (subslices of raw, not copies). ok is false when raw is not
// an array.
func arrayElems(raw []byte, dst [][]byte) (elems [][]byte, ok bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return dst, false
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return dst, true
	}
	for i < len(raw) {
		end := skipValue(raw, i)
		dst = append(dst, raw[i:end])
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] == ']' {
			break
		}
		i = skipSpace(raw, i+1) // the ','
	}
	return dst, true
}

// skipSpace returns the index of the first non-whitespace byte at or after i.
func skipSpace(raw []byte, i int) int {
	for i < len(raw) {
		switch raw[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the index just past the value starting at raw[i].
// On valid JSON only strings and nesting need care; on malformed input
// (objectFields runs before validation) it stays within raw.
func skipValue(raw []byte, i int) int {
	depth := 0
	for ; i < len(raw); i++ {
		c := raw[i]
		if c >= '0' && c <= '9' { // most bytes of a vBucketMap
			continue
		}
		switch c {
		case '"':
			i = skipString(raw, i)
			if depth == 0 {
				return min(i+1, len(raw))
			}
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 { // the end of the array holding a scalar
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
	}
	return min(i, len(raw))
}

// skipString returns the index of the closing quote of the string whose
// opening quote is raw[i].
func skipString(raw []byte, i int) int {
	for i++; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(raw) // unterminated (only before validation)
}

// objectFields calls fn with the key (raw, without quotes) and the value of
// each member of the JSON object in raw, in document order, and returns the
// index just past the object. ok is false when raw is not an object. It is
// the one helper that also runs before validation (to find where the first
// value ends), so on malformed input it must stop, not panic; what it
// reports then is discarded.
func objectFields(raw []byte, fn func(key, val []byte)) (end int, ok bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return 0, false
	}
	i = skipSpace(raw, i+1)
	for i < len(raw) && raw[i] == '"' {
		end := skipString(raw, i)
		key := raw[i+1 : min(end, len(raw))]
		// Past the ':'; running off the end means truncated input, which
		// json.Valid will reject.
		i = skipSpace(raw, skipSpace(raw, end+1)+1)
		if i >= len(raw) {
			return len(raw), true
		}
		vend := skipValue(raw, i)
		fn(key, raw[i:vend])
		i = skipSpace(raw, vend)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return min(i+1, len(raw)), true // past the '}'
}

// keyIs reports whether the raw object key names field, ignoring case as
// cJSON_GetObjectItem does. Keys with escapes are decoded first.
func keyIs(key []byte, field string) bool {
	if bytes.IndexByte(key, '\\') >= 0 {
		var s string
		if json.Unmarshal(append(append([]byte{'"'}, key...), '"'), &s) != nil {
			return false
		}
		return strings.EqualFold(s, field)
	}
	return len(key) == len(field) && strings.EqualFold(string(key), field)
}

// setFirst stores val in *dst unless a value is already there: cJSON
// lookups find the first of duplicate keys.
func setFirst(dst *[]byte, val []byte) {
	if *dst == nil {
		*dst = val
	}
}
