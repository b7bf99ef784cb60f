package ascii

// scanMetaFlags is memcached 1.6.18's _meta_flag_preparse over
// req.MetaFlags, the one parser of meta flags: it fills req.Meta, sets
// Quiet and Base64, decodes a base64 key into req.keyBuf, and returns the
// error reply or "". A duplicate or unknown flag stops the scan at once;
// a bad flag argument only records its reply and the scan goes on, so the
// last such reply wins, as in memcached. Flags valid in 1.6.18 for every
// meta command (checked against the server): b C D F I J k l L M N O P q
// R s t T u v.
func scanMetaFlags(req *Request) string {
	m := &req.Meta
	*m = MetaArgs{Delta: 1}
	reply := ""
	for _, f := range req.MetaFlags {
		c := f[0]
		if c >= 127 || m.Has(c) {
			return replyDuplicateFlag
		}
		m.mark(c)
		r, known := m.parse(req, c, f[1:])
		switch {
		case !known:
			return replyInvalidFlag
		case r == errNoMessage:
			reply = orDefault(reply)
		case r != "":
			reply = r
		}
	}
	return reply
}

// parse records flag c with argument arg. It returns the flag's error
// reply ("" if none), or known false for a flag memcached does not have.
func (m *MetaArgs) parse(req *Request, c byte, arg []byte) (reply string, known bool) {
	ok := true
	switch c {
	case 'b':
		req.Base64 = true
		if !decodeMetaKey(req) {
			return replyDecodeKey, true
		}
	case 'N':
		m.Vivify, ok = parseInt32(arg)
		m.NAfterT = m.Has('T')
	case 'T':
		m.TTL, ok = parseInt32(arg)
	case 'R':
		m.Recache, ok = parseInt32(arg)
	case 'C':
		m.Cas, ok = parseUint64(arg)
	case 'F':
		if m.ClientFlags, ok = parseUint32(arg); !ok {
			return errNoMessage, true
		}
	case 'M':
		if len(arg) != 1 {
			return replyMLength, true
		}
		m.Mode = arg[0]
	case 'J':
		if m.Initial, ok = parseUint64(arg); !ok {
			return replyBadInitial, true
		}
	case 'D':
		if m.Delta, ok = parseUint64(arg); !ok {
			return replyBadDeltaValue, true
		}
	case 'q':
		req.Quiet = true
	case 'k', 'l', 'L', 'O', 'P', 's', 't', 'c', 'f', 'v', 'h', 'u', 'I':
	default:
		return "", false
	}
	if !ok {
		return replyBadToken, true
	}
	return "", true
}

// errNoMessage marks a flag error memcached records without setting a
// message (a bad F): the reply is an earlier flag's, or the command's
// default one.
const errNoMessage = "\x00"

// orDefault returns reply, or the default error message when no message
// has been set yet.
func orDefault(reply string) string {
	if reply == "" {
		return replyBadFormat
	}
	return reply
}

// decodeMetaKey replaces req.Key by its base64 decoding, held in
// req.keyBuf. On failure the key becomes empty, as memcached leaves it.
func decodeMetaKey(req *Request) bool {
	key, ok := decodeBase64(req.keyBuf, req.Tokens[1])
	req.keyBuf = key
	req.Key = key
	return ok
}
