package memserver

import (
	"bufio"

	"github.com/moxifleet/moxi/internal/ascii"
)

func (s *Server) execMetaGet(w *bufio.Writer, req *ascii.Request, o *metaOpts) {
	res := s.store.metaGet(&mgReq{
		key: req.Key, binKey: req.Base64, noUpdate: o.noUpdate,
		ttl: o.ttl, recache: o.recache, recacheT: o.recacheT,
	})
	var r metaReply
	if !res.found {
		if req.Quiet {
			return // q hides a miss
		}
		r.code("EN")
		r.opaqueAndKey(o.tokens, string(req.Key), req.Base64)
		r.end(w)
		return
	}
	v := res.view
	if o.value {
		r.code("VA ")
		r.b = appendUint(r.b, uint64(len(v.value)))
	} else {
		r.code("HD")
	}
	mgFlags(&r, o.tokens, &res)
	s.metaGetMarks(&r, &res)
	if o.value {
		r.value(w, v.value)
		return
	}
	r.end(w)
}

// mgFlags appends the requested return flags of a hit in request order.
func mgFlags(r *metaReply, tokens [][]byte, res *mgResult) {
	v := &res.view
	exp := res.expBefore // t reports the TTL as of its position in the request
	for _, t := range tokens {
		switch t[0] {
		case 'T':
			exp = res.expT
		case 'N':
			if res.created {
				exp = res.expN
			}
		case 's':
			r.flagU('s', uint64(len(v.value)))
		case 't':
			r.ttlFlag(exp, res.now)
		case 'c':
			r.flagU('c', v.cas)
		case 'f':
			r.flagU('f', uint64(v.flags))
		case 'l':
			r.flagI('l', res.now-res.atime)
		case 'h':
			r.flagU('h', b2u(res.fetched))
		case 'O':
			r.opaque(t)
		case 'k':
			r.key(v.key, v.binKey)
		}
	}
}

// metaGetMarks appends memcached's Z (token already sent), X (stale) and
// W (this client won the recache token) markers, in that order.
func (s *Server) metaGetMarks(r *metaReply, res *mgResult) {
	if res.tokenSent {
		r.char('Z')
	}
	if res.stale {
		r.char('X')
	}
	if res.won {
		r.char('W')
	}
}

// metaModes maps the ms M token to a storage mode.
var metaModes = map[byte]storeMode{
	0: modeSet, 'S': modeSet, 'E': modeAdd, 'A': modeAppend, 'P': modePrepend, 'R': modeReplace,
}

var metaStoreCodes = [...]string{
	resStored: "HD", resNotStored: "NS", resExists: "EX", resNotFound: "NF",
}

func (s *Server) execMetaSet(w *bufio.Writer, req *ascii.Request, o *metaOpts) {
	mode, ok := metaModes[o.mode]
	if !ok {
		writeLine(w, "CLIENT_ERROR invalid mode for ms M token")
		return
	}
	// A cas value turns set and replace into cas; append/prepend compare.
	if o.hasCas && (mode == modeSet || mode == modeReplace) {
		mode = modeCas
	}
	sr := storeReq{
		mode: mode, key: req.Key, value: req.Data, flags: o.clientFlags,
		exptime: o.ttl.exptime, cas: o.cas, binKey: req.Base64, dropOnNoMemory: true,
		stale: o.stale && mode == modeCas,
	}
	if !o.hasCas {
		sr.cas = 0
	}
	res, cas := s.store.set(&sr)
	if res == resNoMemory {
		writeLine(w, msgNoMemory)
		return
	}
	if res == resStored && req.Quiet {
		return
	}
	var r metaReply
	r.code(metaStoreCodes[res])
	for _, t := range o.tokens {
		switch t[0] {
		case 'O':
			r.opaque(t)
		case 'k':
			r.key(string(req.Key), req.Base64)
		case 'c':
			r.flagU('c', cas)
		}
	}
	r.end(w)
}

func (s *Server) execMetaDelete(w *bufio.Writer, req *ascii.Request, o *metaOpts) {
	res := s.store.metaDelete(&mdReq{
		key: req.Key, hasCas: o.hasCas, cas: o.cas,
		stale: o.stale, touch: o.ttl.touch, exptime: o.ttl.exptime,
	})
	if res == mdDeleted && req.Quiet {
		return
	}
	var r metaReply
	r.code([...]string{mdDeleted: "HD", mdNotFound: "NF", mdExists: "EX"}[res])
	r.opaqueAndKey(o.tokens, string(req.Key), req.Base64)
	r.end(w)
}

func (s *Server) execMetaArith(w *bufio.Writer, req *ascii.Request, o *metaOpts) {
	var incr bool
	switch o.mode {
	case 0, 'I', 'i', '+':
		incr = true
	case 'D', 'd', '-':
	default:
		writeLine(w, "CLIENT_ERROR invalid mode for ma M token")
		return
	}
	res := s.store.arith(&arithReq{
		key: req.Key, binKey: req.Base64, incr: incr, delta: o.delta,
		cas: o.cas, initial: o.initial, ttl: o.ttl,
	})
	var r metaReply
	switch res.code {
	case arithOK:
		// q hides the reply of an increment, but memcached still sends the
		// one of an item N just created.
		if req.Quiet && !res.created {
			return
		}
		s.metaArithHit(w, req, o, &res)
		return
	case arithNonNumeric:
		writeLine(w, msgNonNumeric)
		return
	case arithNoMemory:
		writeLine(w, "SERVER_ERROR out of memory")
		return
	case arithNoMemoryNew:
		writeLine(w, "SERVER_ERROR Out of memory allocating new item")
		return
	case arithNotFound:
		r.code("NF")
	case arithExists:
		r.code("EX")
	}
	r.opaqueAndKey(o.tokens, string(req.Key), req.Base64)
	r.end(w)
}

func (s *Server) metaArithHit(w *bufio.Writer, req *ascii.Request, o *metaOpts, res *arithResult) {
	var r metaReply
	if o.value {
		r.code("VA ")
		r.b = appendUint(r.b, uint64(len(res.reply)))
	} else {
		r.code("HD")
	}
	exp := res.expBefore
	for _, t := range o.tokens {
		switch t[0] {
		case 'c':
			r.flagU('c', res.cas)
		case 't':
			r.ttlFlag(exp, res.now)
		case 'T':
			exp = res.expT
		case 'N':
			if res.created {
				exp = res.expN
			}
		case 'O':
			r.opaque(t)
		case 'k':
			r.key(string(req.Key), req.Base64)
		}
	}
	if o.value {
		r.value(w, res.reply)
		return
	}
	r.end(w)
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
