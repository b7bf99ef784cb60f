package binproto

// verdict is what memcached 1.6.18's dispatch_bin_command decides about a
// request once its header, extras and key have arrived.
type verdict uint8

const (
	// accept: memcached serves the request.
	accept verdict = iota
	// invalid: EINVAL "Invalid arguments", then the connection closes.
	invalid
	// unknown: "Unknown command", the body is swallowed and the
	// connection kept.
	unknown
	// lengthsInvalid: the key and extras do not fit the body; memcached
	// answers "Unknown command" (not EINVAL) and closes.
	lengthsInvalid
)

// dispatch applies memcached's checks in memcached's order: lengths that
// do not fit the body, then the key length limit (which also applies to
// opcodes memcached does not know), then each opcode's length rule. The
// rules, checked against a real memcached 1.6.18 by differential_test.go,
// are the ones of dispatch_bin_command; quiet opcodes follow the rule of
// their loud twin.
//
// opts widen what memcached serves for a caller that answers these
// opcodes itself (see Reader.ServeSASL and Reader.ServeVerbosity).
func dispatch(h *Header, opts serveOpts) verdict {
	ext, key, body := uint32(h.ExtLen), uint32(h.KeyLen), h.BodyLen
	if key > body || key+ext > body {
		return lengthsInvalid
	}
	if key > MaxKeyLen {
		return invalid
	}
	ok := false
	switch h.Opcode.Loud() {
	case OpVersion, OpNoop, OpQuit, OpSASLListMechs:
		ok = ext == 0 && key == 0 && body == 0
	case OpFlush:
		ok = key == 0 && body == ext && (ext == 0 || ext == 4)
	case OpSet, OpAdd, OpReplace:
		ok = ext == 8 && key != 0
	case OpGet, OpGetK:
		ok = ext == 0 && key != 0 && body == key
	case OpDelete:
		ok = ext == 0 && key != 0 && body == key
	case OpIncrement, OpDecrement:
		ok = ext == 20 && key != 0 && body == key+ext
	case OpAppend, OpPrepend:
		ok = ext == 0 && key != 0
	case OpStat:
		ok = ext == 0
	case OpSASLAuth, OpSASLStep:
		ok = ext == 0 && key != 0
	case OpTouch, OpGat, OpGatK:
		ok = ext == 4 && key != 0
	case OpVerbosity:
		// memcached 1.6 dropped verbosity from the binary protocol
		// and answers it "Unknown command"; the rule is 1.4's.
		if !opts.verbosity {
			return unknown
		}
		ok = ext == 4 && key == 0 && body == 4
	default:
		return unknown
	}
	if !ok {
		return invalid
	}
	if isSASL(h.Opcode) && !opts.sasl {
		// memcached without -S answers a well-formed SASL request
		// "Unknown command" and swallows its value.
		return unknown
	}
	return accept
}

// serveOpts are the opcodes a Reader serves beyond memcached 1.6.18
// without -S.
type serveOpts struct {
	sasl, verbosity bool
}

// isSASL reports the SASL opcodes, which memcached serves only with -S.
func isSASL(op Opcode) bool {
	return op == OpSASLListMechs || op == OpSASLAuth || op == OpSASLStep
}

// ignoresValue reports the opcodes whose rule allows a value that memcached
// then never reads: it handles the request on its extras and key and parses
// the value bytes as the next request.
func ignoresValue(op Opcode) bool {
	switch op.Loud() {
	case OpStat, OpTouch, OpGat, OpGatK:
		return true
	}
	return false
}

// isStore reports whether op carries a value that becomes an item.
func isStore(op Opcode) bool {
	switch op.Loud() {
	case OpSet, OpAdd, OpReplace, OpAppend, OpPrepend:
		return true
	}
	return false
}

// Known reports whether memcached 1.6.18, run without SASL (-S), serves op:
// whether a well-formed request with this opcode gets a real answer rather
// than "Unknown command". Verbosity and the SASL opcodes are not known.
func Known(op Opcode) bool {
	switch op.Loud() {
	case OpGet, OpGetK, OpSet, OpAdd, OpReplace, OpDelete, OpIncrement,
		OpDecrement, OpQuit, OpFlush, OpNoop, OpVersion, OpAppend,
		OpPrepend, OpStat, OpTouch, OpGat, OpGatK:
		return true
	}
	return false
}
