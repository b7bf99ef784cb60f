package memserver

// Limits from memcached's proto_text.c.
const (
	metaMaxTokens  = 20 // MFLAG_MAX_OPT_LENGTH, counting command, key and flags
	metaMaxOpaque  = 32 // MFLAG_MAX_OPAQUE_LENGTH, including the 'O'
	metaFlagsKnown = "bNTRlOPLkstcfvhuqFCMJDI"
)

// metaOpts is a parsed meta flag list (memcached's _meta_flag_preparse).
// The tokens themselves are kept in request order for building replies.
type metaOpts struct {
	tokens      [][]byte
	value       bool // v
	noUpdate    bool // u
	stale       bool // I
	ttl         ttlOrder
	recache     bool
	recacheT    int64
	clientFlags uint32
	hasCas      bool
	cas         uint64
	mode        byte
	delta       uint64
	initial     uint64
}

// parseMetaFlags validates tokens. On failure it returns memcached's error
// line: duplicate and unknown flags stop at once, other errors keep
// scanning and the last one wins, as in memcached.
func parseMetaFlags(tokens [][]byte) (metaOpts, string) {
	o := metaOpts{tokens: tokens, delta: 1}
	var seen [128]bool
	errstr := ""
	for _, t := range tokens {
		c := t[0]
		if c >= 127 || seen[c] {
			return o, "CLIENT_ERROR duplicate flag"
		}
		seen[c] = true
		if !isKnownFlag(c) {
			return o, "CLIENT_ERROR invalid flag"
		}
		if e := o.apply(c, t[1:]); e != "" {
			errstr = e
		}
	}
	return o, errstr
}

// checkOpaque reports memcached's error for an over-long O token, which it
// detects while building the reply rather than while parsing flags.
func checkOpaque(tokens [][]byte) string {
	for _, t := range tokens {
		if t[0] == 'O' && len(t) > metaMaxOpaque {
			return "CLIENT_ERROR opaque token too long"
		}
	}
	return ""
}

func isKnownFlag(c byte) bool {
	for i := 0; i < len(metaFlagsKnown); i++ {
		if metaFlagsKnown[i] == c {
			return true
		}
	}
	return false
}

const msgBadToken = "CLIENT_ERROR bad token in command line format"

// apply records one flag; arg is the token after its first character.
func (o *metaOpts) apply(c byte, arg []byte) string {
	var ok bool
	switch c {
	case 'N':
		o.ttl.vivify = true
		o.ttl.nAfterT = o.ttl.touch
		if o.ttl.vivExptime, ok = parseI32(arg); !ok {
			return msgBadToken
		}
	case 'T':
		o.ttl.touch = true
		if o.ttl.exptime, ok = parseI32(arg); !ok {
			return msgBadToken
		}
	case 'R':
		o.recache = true
		if o.recacheT, ok = parseI32(arg); !ok {
			return msgBadToken
		}
	case 'v':
		o.value = true
	case 'u':
		o.noUpdate = true
	case 'I':
		o.stale = true
	case 'F':
		if o.clientFlags, ok = parseU32(arg); !ok {
			return msgBadFormat
		}
	case 'C':
		if o.cas, ok = parseU64(arg); !ok {
			return msgBadToken
		}
		o.hasCas = true
	case 'M':
		if len(arg) != 1 {
			return "CLIENT_ERROR incorrect length for M token"
		}
		o.mode = arg[0]
	case 'J':
		if o.initial, ok = parseU64(arg); !ok {
			return "CLIENT_ERROR invalid numeric initial value"
		}
	case 'D':
		if o.delta, ok = parseU64(arg); !ok {
			return "CLIENT_ERROR invalid numeric delta value"
		}
	}
	return ""
}
