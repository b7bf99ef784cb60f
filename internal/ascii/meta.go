package ascii

// Parsers for the meta commands, following memcached 1.6.18's
// process_m*_command: the checks run in memcached's order because the first
// (or, inside the flag scan, the last) failing check picks the reply.

// maxMetaTokens is memcached's MFLAG_MAX_OPT_LENGTH applied to ntokens,
// which counts the command, the key, the flags and a terminal token.
const maxMetaTokens = 20

// maxOpaqueLength is MFLAG_MAX_OPAQUE_LENGTH; it includes the 'O'.
const maxOpaqueLength = 32

// MetaArgs is what the one meta flag parser (scanMetaFlags, memcached's
// _meta_flag_preparse) learns from a meta command's flags: which flags are
// present and the arguments of those that take one, read with memcached's
// number rules. The proxy's translation to binary and the built-in server
// both work from it; neither parses flags again.
type MetaArgs struct {
	present [2]uint64 // bit c: flag c is present (c < 128)

	Mode        byte   // M, 0 if absent
	ClientFlags uint32 // F
	Cas         uint64 // C
	TTL         int32  // T
	Vivify      int32  // N
	Recache     int32  // R
	Delta       uint64 // D; 1 when absent
	Initial     uint64 // J
	// NAfterT: N came after T. memcached applies the later one's TTL to
	// an item N creates.
	NAfterT bool
}

// Has reports whether flag c was given.
func (m *MetaArgs) Has(c byte) bool { return c < 128 && m.present[c>>6]&(1<<(c&63)) != 0 }

func (m *MetaArgs) mark(c byte) { m.present[c>>6] |= 1 << (c & 63) }

// metaKey checks the arity and key shared by mg, ms, md and ma.
func metaKey(req *Request, op Op) error {
	if len(req.Tokens) < 2 {
		return &Error{Reply: replyError}
	}
	req.Op = op
	if len(req.Tokens[1]) > maxKeyLength {
		return metaErr(replyBadFormat)
	}
	req.Key = req.Tokens[1]
	return nil
}

// parseMetaGet handles mg <key> <flags>*.
func parseMetaGet(req *Request) error {
	if err := metaKey(req, OpMetaGet); err != nil {
		return err
	}
	if len(req.Tokens)+1 > maxMetaTokens {
		return metaErr(replyMgFlagsTooLong)
	}
	req.MetaFlags = tail(req.Tokens, 2)
	if reply := scanMetaFlags(req); reply != "" {
		return metaErr(reply)
	}
	return checkOpaque(req)
}

// parseMetaDelete handles md <key> <flags>*. md reports every flag-scan
// failure with one generic message.
func parseMetaDelete(req *Request) error {
	if err := metaKey(req, OpMetaDelete); err != nil {
		return err
	}
	if len(req.Tokens)+1 > maxMetaTokens {
		return metaErr(replyFlagsTooLong)
	}
	req.MetaFlags = tail(req.Tokens, 2)
	if reply := scanMetaFlags(req); reply != "" {
		return metaErr(replyInvalidOrDup)
	}
	return checkOpaque(req)
}

// parseMetaArith handles ma <key> <flags>*.
func parseMetaArith(req *Request) error {
	if err := metaKey(req, OpMetaArith); err != nil {
		return err
	}
	if len(req.Tokens)+1 > maxMetaTokens {
		return metaErr(replyFlagsTooLong)
	}
	req.MetaFlags = tail(req.Tokens, 2)
	if reply := scanMetaFlags(req); reply != "" {
		return metaErr(replyInvalidOrDup)
	}
	switch req.Meta.Mode {
	case 0, 'I', '+', 'D', '-':
	default:
		return metaErr(replyMaMode)
	}
	return checkOpaque(req)
}

// parseMetaDebug handles me <key> [b]. memcached looks only at the token
// right after the key and ignores everything else.
func parseMetaDebug(req *Request) error {
	t := req.Tokens
	if len(t) < 2 || len(t[1]) > maxKeyLength {
		return metaErr(replyBadFormat)
	}
	req.Op = OpMetaDebug
	req.Key = t[1]
	req.MetaFlags = tail(t, 2)
	if len(t) >= 3 && string(t[2]) == "b" {
		req.Base64 = true
		key, ok := decodeBase64(req.keyBuf, t[1])
		req.keyBuf = key
		if !ok {
			return metaErr(replyBadFormat)
		}
		req.Key = key
	}
	return nil
}

// parseMetaSet handles ms <key> <datalen> <flags>* and its data block.
// Errors found before datalen is known leave the data block to be parsed
// as a command; later errors swallow it, as memcached does.
func (r *Reader) parseMetaSet(req *Request) error {
	if err := metaKey(req, OpMetaSet); err != nil {
		return err
	}
	t := req.Tokens
	if len(t) == 2 {
		return metaErr(replyBadFormat)
	}
	if len(t)+1 > maxMetaTokens {
		return metaErr(replyFlagsTooLong)
	}
	size, ok := parseInt32(t[2])
	if !ok || size < 0 || size > 1<<31-1-2 {
		return metaErr(replyBadFormat)
	}
	req.MetaFlags = tail(t, 3)
	if reply := r.checkMetaSet(req, int(size)); reply != "" {
		if err := r.swallow(int(size)); err != nil {
			return err
		}
		e := metaErr(reply)
		e.DropKey = reply == replyTooLarge
		return e
	}
	return r.readData(req, int(size))
}

// checkMetaSet runs the ms checks made once datalen is known and returns
// the error reply, or "".
func (r *Reader) checkMetaSet(req *Request, size int) string {
	if reply := scanMetaFlags(req); reply != "" {
		return reply
	}
	opaque := opaqueError(req)
	switch req.Meta.Mode {
	case 0, 'E', 'A', 'P', 'R', 'S':
	default:
		return replyMsMode // checked before the opaque length
	}
	if opaque != "" {
		return opaque
	}
	if r.tooLarge(len(req.Key), size, req.Meta.ClientFlags) {
		return replyTooLarge
	}
	return ""
}

// checkOpaque reports an O flag longer than memcached allows.
func checkOpaque(req *Request) error {
	if reply := opaqueError(req); reply != "" {
		return metaErr(reply)
	}
	return nil
}

// opaqueError returns the reply for an over-long O flag, or "".
func opaqueError(req *Request) string {
	for _, f := range req.MetaFlags {
		if f[0] == 'O' && len(f) > maxOpaqueLength {
			return replyOpaqueTooLong
		}
	}
	return ""
}
