package ascii

// Parsers for the classic commands. n counts the tokens including the
// command name; memcached's ntokens is n+1 (it counts a terminal token), so
// memcached's WANT_TOKENS_OR(ntokens, 6, 7) reads n == 5 || n == 6 here.
// Arity errors come before noreply is looked at, so they are always sent.

// parseGet handles get and gets: at least one key, every key checked.
func parseGet(req *Request, op Op) error {
	n := len(req.Tokens)
	if n < 2 {
		return &Error{Reply: replyError}
	}
	req.Op = op
	return setKeys(req, tail(req.Tokens, 1))
}

// parseGat handles gat and gats. memcached accepts "gat <exptime>" with no
// key at all and answers "END", so Keys may be empty here.
func parseGat(req *Request, op Op) error {
	n := len(req.Tokens)
	if n < 2 {
		return &Error{Reply: replyError}
	}
	exp, ok := parseInt32(req.Tokens[1])
	if !ok {
		return &Error{Reply: replyBadExptime}
	}
	req.Op = op
	req.Exptime = int64(exp)
	return setKeys(req, tail(req.Tokens, 2))
}

// setKeys stores keys after checking their length.
func setKeys(req *Request, keys [][]byte) error {
	for _, k := range keys {
		if len(k) > maxKeyLength {
			return &Error{Reply: replyBadFormat}
		}
	}
	req.Keys = keys
	return nil
}

// checkNoReply sets NoReply when the last token is "noreply", which is
// what memcached's set_noreply_maybe looks at, whatever the arity.
func checkNoReply(req *Request) {
	if string(req.Tokens[len(req.Tokens)-1]) == "noreply" {
		req.NoReply = true
	}
}

// setKey checks and stores the key in Tokens[1].
func setKey(req *Request) error {
	if len(req.Tokens[1]) > maxKeyLength {
		return protoErr(req, replyBadFormat)
	}
	req.Key = req.Tokens[1]
	return nil
}

// parseStorage handles set/add/replace/append/prepend/cas and reads the
// data block. After a bad command line nothing is swallowed: memcached
// reads the data line as the next command.
func (r *Reader) parseStorage(req *Request, op Op) error {
	n, want := len(req.Tokens), 5
	if op == OpCas {
		want = 6
	}
	if n != want && n != want+1 {
		return &Error{Reply: replyError}
	}
	req.Op = op
	checkNoReply(req)
	if err := setKey(req); err != nil {
		return err
	}
	t := req.Tokens
	flags, ok1 := parseUint32(t[2])
	exp, ok2 := parseInt32(t[3])
	size, ok3 := parseInt32(t[4])
	if !ok1 || !ok2 || !ok3 {
		return protoErr(req, replyBadFormat)
	}
	if op == OpCas {
		if req.Cas, ok1 = parseUint64(t[5]); !ok1 {
			return protoErr(req, replyBadFormat)
		}
	}
	if size < 0 || size > 1<<31-1-2 {
		return protoErr(req, replyBadFormat)
	}
	req.Flags, req.Exptime = flags, int64(exp)
	if r.tooLarge(len(req.Key), int(size), flags) {
		if err := r.swallow(int(size)); err != nil {
			return err
		}
		e := protoErr(req, replyTooLarge)
		e.DropKey = op == OpSet
		return e
	}
	return r.readData(req, int(size))
}

// parseDelete handles delete. The legacy hold time is accepted only as "0".
func parseDelete(req *Request) error {
	n := len(req.Tokens)
	if n < 2 || n > 4 {
		return &Error{Reply: replyError}
	}
	req.Op = OpDelete
	if n > 2 {
		holdZero := string(req.Tokens[2]) == "0"
		checkNoReply(req)
		valid := (n == 3 && (holdZero || req.NoReply)) ||
			(n == 4 && holdZero && req.NoReply)
		if !valid {
			return protoErr(req, replyDeleteUsage)
		}
	}
	return setKey(req)
}

// parseArith handles incr and decr.
func parseArith(req *Request, op Op) error {
	n := len(req.Tokens)
	if n != 3 && n != 4 {
		return &Error{Reply: replyError}
	}
	req.Op = op
	checkNoReply(req)
	if err := setKey(req); err != nil {
		return err
	}
	delta, ok := parseUint64(req.Tokens[2])
	if !ok {
		return protoErr(req, replyBadDelta)
	}
	req.Delta = delta
	return nil
}

// parseTouch handles touch.
func parseTouch(req *Request) error {
	n := len(req.Tokens)
	if n != 3 && n != 4 {
		return &Error{Reply: replyError}
	}
	req.Op = OpTouch
	checkNoReply(req)
	if err := setKey(req); err != nil {
		return err
	}
	exp, ok := parseInt32(req.Tokens[2])
	if !ok {
		return protoErr(req, replyBadExptime)
	}
	req.Exptime = int64(exp)
	return nil
}

// parseFlushAll handles flush_all [delay] [noreply]; the delay goes to
// Exptime too.
func parseFlushAll(req *Request) error {
	n := len(req.Tokens)
	if n > 3 {
		return &Error{Reply: replyError}
	}
	req.Op = OpFlushAll
	checkNoReply(req)
	req.Args = argsAfterName(req)
	// Like memcached, parse the delay whenever the token count says one
	// is there, even if it is the word noreply.
	want := 1
	if req.NoReply {
		want = 2
	}
	if n != want {
		exp, ok := parseInt32(req.Tokens[1])
		if !ok {
			return protoErr(req, replyBadExptime)
		}
		req.Exptime = int64(exp)
	}
	return nil
}

// parseVerbosity handles verbosity <level> [noreply]. "verbosity noreply"
// takes "noreply" as the level and fails, silently since noreply is set.
func parseVerbosity(req *Request) error {
	n := len(req.Tokens)
	if n != 2 && n != 3 {
		return &Error{Reply: replyError}
	}
	req.Op = OpVerbosity
	checkNoReply(req)
	req.Args = argsAfterName(req)
	if _, ok := parseUint32(req.Tokens[1]); !ok {
		return protoErr(req, replyBadFormat)
	}
	return nil
}

// argsAfterName returns the tokens after the command name, without the
// trailing noreply (which NoReply already reports).
func argsAfterName(req *Request) [][]byte {
	n := len(req.Tokens)
	if req.NoReply {
		n--
	}
	return tail(req.Tokens[:n], 1)
}
