package ascii

// dispatch classifies req.Tokens and parses the command's arguments the way
// memcached's process_command_ascii does.
func (r *Reader) dispatch(req *Request) error {
	t := req.Tokens
	// memcached: no valid command is shorter than two bytes.
	if len(t) == 0 || len(t[0]) < 2 {
		return &Error{Reply: replyError}
	}
	if t[0][0] == 'm' && len(t[0]) == 2 {
		return r.dispatchMeta(req)
	}
	switch string(t[0]) {
	case "get":
		return parseGet(req, OpGet)
	case "gets":
		return parseGet(req, OpGets)
	case "gat":
		return parseGat(req, OpGat)
	case "gats":
		return parseGat(req, OpGats)
	case "set":
		return r.parseStorage(req, OpSet)
	case "add":
		return r.parseStorage(req, OpAdd)
	case "replace":
		return r.parseStorage(req, OpReplace)
	case "append":
		return r.parseStorage(req, OpAppend)
	case "prepend":
		return r.parseStorage(req, OpPrepend)
	case "cas":
		return r.parseStorage(req, OpCas)
	}
	return dispatchOther(req)
}

// dispatchOther handles the classic commands that carry no data block.
func dispatchOther(req *Request) error {
	switch string(req.Tokens[0]) {
	case "delete":
		return parseDelete(req)
	case "incr":
		return parseArith(req, OpIncr)
	case "decr":
		return parseArith(req, OpDecr)
	case "touch":
		return parseTouch(req)
	case "flush_all":
		return parseFlushAll(req)
	case "verbosity":
		return parseVerbosity(req)
	case "stats":
		req.Op = OpStats
		req.Args = tail(req.Tokens, 1)
		return nil
	case "version":
		req.Op = OpVersion // memcached ignores any argument
		return nil
	case "quit":
		req.Op = OpQuit
		return nil
	case "shutdown":
		// memcached without -A, whatever the arguments; moxi never lets a
		// client stop it or, through it, a server.
		return &Error{Reply: "ERROR: shutdown not enabled"}
	}
	return &Error{Reply: replyError}
}

// dispatchMeta handles the two-letter commands starting with "m".
func (r *Reader) dispatchMeta(req *Request) error {
	switch req.Tokens[0][1] {
	case 'g':
		return parseMetaGet(req)
	case 's':
		return r.parseMetaSet(req)
	case 'd':
		return parseMetaDelete(req)
	case 'a':
		return parseMetaArith(req)
	case 'n':
		req.Op = OpMetaNoop // memcached ignores any argument
		req.MetaFlags = tail(req.Tokens, 1)
		return nil
	case 'e':
		return parseMetaDebug(req)
	}
	return &Error{Reply: replyError}
}
