package ascii

// Op identifies a text-protocol command.
type Op uint8

// Text-protocol commands. OpUnknown never leaves Reader.Next: an unknown
// command is reported as an *Error with the reply "ERROR".
const (
	OpUnknown Op = iota
	OpGet
	OpGets
	OpGat
	OpGats
	OpSet
	OpAdd
	OpReplace
	OpAppend
	OpPrepend
	OpCas
	OpDelete
	OpIncr
	OpDecr
	OpTouch
	OpFlushAll
	OpStats
	OpVersion
	OpVerbosity
	OpQuit
	OpMetaGet    // mg
	OpMetaSet    // ms
	OpMetaDelete // md
	OpMetaArith  // ma
	OpMetaNoop   // mn
	OpMetaDebug  // me
)

// Request is one parsed client command. Slices point into buffers owned by
// the Request (or the Reader) and stay valid until the next Reader.Next call
// that reuses this Request.
type Request struct {
	Op Op
	// Line is the command line without its trailing "\r\n" or "\n". Like
	// memcached, a NUL byte ends the line: Line stops before it.
	Line []byte
	// Tokens is Line split on runs of spaces; Tokens[0] is the command name.
	Tokens [][]byte
	// Key is the routing key of single-key commands (storage, delete,
	// incr/decr, touch, and every meta command but mn). For meta commands
	// with the b flag it is the base64-decoded key. nil otherwise.
	Key []byte
	// Keys holds the keys of get/gets/gat/gats in request order, duplicates
	// kept. It is empty for "gat <exptime>" with no key, which memcached
	// accepts (and answers with END).
	Keys [][]byte
	// Flags is the client flags of set/add/replace/append/prepend/cas.
	Flags uint32
	// Exptime is the expiration of storage commands, touch and gat/gats,
	// and the delay of flush_all. Like memcached it is the decimal value
	// truncated to 32 bits (2147483648 reads as -2147483648).
	Exptime int64
	// Cas is the compare value of cas.
	Cas uint64
	// Delta is the amount of incr/decr.
	Delta uint64
	// NoReply is set when a classic command ends with the noreply token.
	NoReply bool
	// Data is the value of storage commands and ms, without its "\r\n".
	Data []byte
	// MetaFlags are the flag tokens of a meta command, after the key (and
	// after the datalen of ms), e.g. "v", "T30", "Oabc". For mn and me they
	// are whatever tokens follow (memcached ignores them).
	MetaFlags [][]byte
	// Meta is what the flags of mg, ms, md and ma say (see MetaArgs).
	Meta MetaArgs
	// Quiet is set when a meta command carries the q flag.
	Quiet bool
	// Base64 is set when a meta command carries the b flag.
	Base64 bool
	// Args holds the tokens after the command name for stats, verbosity and
	// flush_all (e.g. ["proxy","config"] for "stats proxy config"). A
	// trailing noreply of verbosity and flush_all is not included.
	Args [][]byte

	// Keys, MetaFlags and Args are sub-slices of Tokens (capped, so an
	// append by the caller copies instead of overwriting Tokens). Line,
	// Tokens and Key live in lineBuf, a decoded base64 key in keyBuf and
	// Data in dataBuf; all three keep their capacity across commands.
	lineBuf []byte
	keyBuf  []byte
	dataBuf []byte
}

// Error is a protocol error. Reply is the line to send to the client,
// without "\r\n"; Close says that memcached closes the connection after it.
//
// An empty Reply means memcached sends nothing for this input: either the
// connection is closed (Close is set; memcached does not explain), or a
// classic command carried noreply, which makes memcached drop even its
// error lines (the Request then has NoReply set).
type Error struct {
	Reply string
	Close bool
	// DropKey is set when memcached, refusing a value as too large,
	// also unlinks the key's old item (set and ms do): Request.Key names it.
	DropKey bool
}

func (e *Error) Error() string {
	switch {
	case e.Reply != "":
		return "ascii: " + e.Reply
	case e.Close:
		return "ascii: bad input, connection closed"
	}
	return "ascii: bad input, reply suppressed by noreply"
}

// IsStorage reports whether op carries a data block (set, add, replace,
// append, prepend, cas, ms).
func (op Op) IsStorage() bool {
	return (op >= OpSet && op <= OpCas) || op == OpMetaSet
}

// IsRetrieval reports whether op is get, gets, gat or gats.
func (op Op) IsRetrieval() bool { return op >= OpGet && op <= OpGats }

// IsMeta reports whether op is one of the meta commands.
func (op Op) IsMeta() bool { return op >= OpMetaGet && op <= OpMetaDebug }
