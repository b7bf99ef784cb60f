package ascii

// scanMetaFlags is memcached 1.6.18's _meta_flag_preparse over
// req.MetaFlags. It sets Quiet and Base64, decodes a base64 key into
// req.keyBuf, and returns the error reply or "". A duplicate or unknown
// flag stops the scan at once; a bad flag argument only records its reply
// and the scan goes on, so the last such reply wins, as in memcached.
// Flags valid in 1.6.18 for every meta command (checked against the
// server): b C D F I J k l L M N O P q R s t T u v.
func scanMetaFlags(req *Request) (metaFlags, string) {
	var mf metaFlags
	var seen [127]bool
	reply := ""
	for _, f := range req.MetaFlags {
		c := f[0]
		if c >= 127 || seen[c] {
			return mf, replyDuplicateFlag
		}
		seen[c] = true
		switch c {
		case 'b':
			req.Base64 = true
			if !decodeMetaKey(req) {
				reply = replyDecodeKey
			}
		case 'N', 'T', 'R':
			if _, ok := parseInt32(f[1:]); !ok {
				reply = replyBadToken
			}
		case 'C':
			if _, ok := parseUint64(f[1:]); !ok {
				reply = replyBadToken
			}
		case 'F':
			v, ok := parseUint32(f[1:])
			if !ok {
				// memcached flags the error without setting a message,
				// so the reply is the command's default one.
				reply = orDefault(reply)
			}
			mf.clientFlags = v
		case 'M':
			if len(f) != 2 {
				reply = replyMLength
			} else {
				mf.mode = f[1]
			}
		case 'J':
			if _, ok := parseUint64(f[1:]); !ok {
				reply = replyBadInitial
			}
		case 'D':
			if _, ok := parseUint64(f[1:]); !ok {
				reply = replyBadDeltaValue
			}
		case 'q':
			req.Quiet = true
		case 'k', 'l', 'L', 'O', 'P', 's', 't', 'c', 'f', 'v', 'h', 'u', 'I':
		default:
			return mf, replyInvalidFlag
		}
	}
	return mf, reply
}

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
