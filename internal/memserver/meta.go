package memserver

import (
	"bufio"
	"encoding/base64"
	"strconv"

	"github.com/moxifleet/moxi/internal/ascii"
)

// metaReply builds one meta reply line; flags are appended in request
// order as memcached does.
type metaReply struct {
	b []byte
}

func (r *metaReply) code(c string)          { r.b = append(r.b, c...) }
func (r *metaReply) flagU(c byte, v uint64) { r.b = strconv.AppendUint(append(r.b, ' ', c), v, 10) }
func (r *metaReply) flagI(c byte, v int64)  { r.b = strconv.AppendInt(append(r.b, ' ', c), v, 10) }
func (r *metaReply) opaque(tok []byte)      { r.b = append(append(r.b, ' '), tok...) }
func (r *metaReply) char(c byte)            { r.b = append(r.b, ' ', c) }
func (r *metaReply) end(w *bufio.Writer)    { _, _ = w.Write(append(r.b, '\r', '\n')) }
func (r *metaReply) value(w *bufio.Writer, v []byte) {
	r.end(w)
	_, _ = w.Write(v)
	_, _ = w.WriteString("\r\n")
}

// key appends " k<key>", base64-encoded and followed by " b" for binary
// keys.
func (r *metaReply) key(k string, bin bool) {
	r.b = append(r.b, ' ', 'k')
	if !bin {
		r.b = append(r.b, k...)
		return
	}
	r.b = base64.StdEncoding.AppendEncode(r.b, []byte(k))
	r.b = append(r.b, ' ', 'b')
}

// ttlFlag appends " t<secs>", -1 when the item never expires.
func (r *metaReply) ttlFlag(exp, now int64) {
	if exp == 0 {
		r.flagI('t', -1)
		return
	}
	r.flagI('t', exp-now)
}

// opaqueAndKey appends the O and k flags, which every meta reply echoes.
func (r *metaReply) opaqueAndKey(tokens [][]byte, key string, bin bool) {
	for _, t := range tokens {
		switch t[0] {
		case 'O':
			r.opaque(t)
		case 'k':
			r.key(key, bin)
		}
	}
}

func (s *Server) execMeta(w *bufio.Writer, req *ascii.Request) {
	if req.Op == ascii.OpMetaNoop {
		writeLine(w, "MN")
		return
	}
	if req.Op == ascii.OpMetaDebug {
		s.execMetaDebug(w, req)
		return
	}
	o := metaOptsOf(req)
	switch req.Op {
	case ascii.OpMetaGet:
		s.execMetaGet(w, req, &o)
	case ascii.OpMetaSet:
		s.execMetaSet(w, req, &o)
	case ascii.OpMetaDelete:
		s.execMetaDelete(w, req, &o)
	case ascii.OpMetaArith:
		s.execMetaArith(w, req, &o)
	}
}

func (s *Server) execMetaDebug(w *bufio.Writer, req *ascii.Request) {
	d, ok := s.store.debug(req.Key)
	if !ok {
		writeLine(w, "EN")
		return
	}
	b := append(make([]byte, 0, 128), "ME "...)
	if d.binKey {
		b = base64.StdEncoding.AppendEncode(b, []byte(d.key))
	} else {
		b = append(b, d.key...)
	}
	b = append(b, " exp="...)
	b = strconv.AppendInt(b, d.exp, 10)
	b = append(b, " la="...)
	b = strconv.AppendInt(b, d.la, 10)
	b = append(b, " cas="...)
	b = strconv.AppendUint(b, d.cas, 10)
	b = append(b, " fetch="...)
	b = append(b, pick(d.fetched, "yes", "no")...)
	b = append(b, " cls="...)
	b = strconv.AppendInt(b, int64(slabClass(d.size)), 10)
	b = append(b, " size="...)
	b = strconv.AppendInt(b, d.size, 10)
	_, _ = w.Write(append(b, '\r', '\n'))
}
