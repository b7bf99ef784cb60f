package memserver

import "github.com/moxifleet/moxi/internal/ascii"

// metaOpts is a meta command's flags as the server uses them, taken from
// what the protocol reader parsed (ascii.MetaArgs: the one parser of meta
// flags, which has already refused bad ones with memcached's replies).
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

// metaOptsOf returns req's flags as metaOpts.
func metaOptsOf(req *ascii.Request) metaOpts {
	m := &req.Meta
	return metaOpts{
		tokens:   req.MetaFlags,
		value:    m.Has('v'),
		noUpdate: m.Has('u'),
		stale:    m.Has('I'),
		ttl: ttlOrder{touch: m.Has('T'), exptime: int64(m.TTL),
			vivify: m.Has('N'), vivExptime: int64(m.Vivify), nAfterT: m.NAfterT},
		recache: m.Has('R'), recacheT: int64(m.Recache),
		clientFlags: m.ClientFlags,
		hasCas:      m.Has('C'), cas: m.Cas,
		mode: m.Mode, delta: m.Delta, initial: m.Initial,
	}
}
