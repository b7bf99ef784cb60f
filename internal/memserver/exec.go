package memserver

import (
	"bufio"
	"strconv"

	"github.com/moxifleet/moxi/internal/ascii"
)

// Reply lines shared by several commands.
const (
	msgNonNumeric = "CLIENT_ERROR cannot increment or decrement non-numeric value"
	msgBadFormat  = "CLIENT_ERROR bad command line format"
	msgNoMemory   = "SERVER_ERROR out of memory storing object"
)

func writeLine(w *bufio.Writer, s string) {
	_, _ = w.WriteString(s)
	_, _ = w.WriteString("\r\n")
}

// execute runs one parsed request, writing its reply to w. It reports true
// when the connection must be closed (quit).
func (s *Server) execute(w *bufio.Writer, req *ascii.Request) (quit bool) {
	switch req.Op {
	case ascii.OpGet, ascii.OpGets, ascii.OpGat, ascii.OpGats:
		s.execGet(w, req)
	case ascii.OpSet, ascii.OpAdd, ascii.OpReplace, ascii.OpAppend, ascii.OpPrepend, ascii.OpCas:
		s.execStore(w, req)
	case ascii.OpDelete:
		s.replyClassic(w, req, pick(s.store.delete(req.Key), "DELETED", "NOT_FOUND"))
	case ascii.OpIncr, ascii.OpDecr:
		s.execIncr(w, req)
	case ascii.OpTouch:
		s.replyClassic(w, req, pick(s.store.touch(req.Key, req.Exptime), "TOUCHED", "NOT_FOUND"))
	case ascii.OpFlushAll:
		s.execFlush(w, req)
	case ascii.OpStats:
		s.execStats(w, req)
	case ascii.OpVersion:
		writeLine(w, "VERSION "+s.cfg.Version)
	case ascii.OpVerbosity:
		s.execVerbosity(w, req)
	case ascii.OpQuit:
		return true
	case ascii.OpMetaGet, ascii.OpMetaSet, ascii.OpMetaDelete, ascii.OpMetaArith, ascii.OpMetaNoop, ascii.OpMetaDebug:
		if req.Op == ascii.OpMetaDebug {
			s.cmdMeta.Add(1) // memcached 1.6.18 counts only me in cmd_meta
		}
		s.execMeta(w, req)
	default:
		writeLine(w, "ERROR")
	}
	return false
}

func pick(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}

// replyClassic writes line unless the command carried noreply, which in
// memcached 1.6 silences every reply of the classic commands, errors too.
func (s *Server) replyClassic(w *bufio.Writer, req *ascii.Request, line string) {
	if !req.NoReply {
		writeLine(w, line)
	}
}

func (s *Server) execGet(w *bufio.Writer, req *ascii.Request) {
	touch := req.Op == ascii.OpGat || req.Op == ascii.OpGats
	withCas := req.Op == ascii.OpGets || req.Op == ascii.OpGats
	var hdr [64]byte
	for _, key := range req.Keys {
		v, ok := s.store.get(key, touch, req.Exptime)
		if !ok {
			continue
		}
		b := append(hdr[:0], "VALUE "...)
		_, _ = w.Write(b)
		_, _ = w.WriteString(v.key)
		b = append(hdr[:0], ' ')
		b = strconv.AppendUint(b, uint64(v.flags), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(len(v.value)), 10)
		if withCas {
			b = append(b, ' ')
			b = strconv.AppendUint(b, v.cas, 10)
		}
		b = append(b, '\r', '\n')
		_, _ = w.Write(b)
		_, _ = w.Write(v.value)
		_, _ = w.WriteString("\r\n")
	}
	writeLine(w, "END")
}

var classicModes = [...]storeMode{
	ascii.OpSet:     modeSet,
	ascii.OpAdd:     modeAdd,
	ascii.OpReplace: modeReplace,
	ascii.OpAppend:  modeAppend,
	ascii.OpPrepend: modePrepend,
	ascii.OpCas:     modeCas,
}

var storeReplies = [...]string{
	resStored:    "STORED",
	resNotStored: "NOT_STORED",
	resExists:    "EXISTS",
	resNotFound:  "NOT_FOUND",
	resNoMemory:  msgNoMemory,
}

func (s *Server) execStore(w *bufio.Writer, req *ascii.Request) {
	r := storeReq{
		mode:    classicModes[req.Op],
		key:     req.Key,
		value:   req.Data,
		flags:   req.Flags,
		exptime: req.Exptime,
		cas:     req.Cas,
	}
	if r.mode == modeAppend || r.mode == modePrepend {
		r.cas = 0 // classic append/prepend have no cas operand
	}
	res, _ := s.store.set(&r)
	s.replyClassic(w, req, storeReplies[res])
}

func (s *Server) execIncr(w *bufio.Writer, req *ascii.Request) {
	res := s.store.arith(&arithReq{key: req.Key, incr: req.Op == ascii.OpIncr, delta: req.Delta})
	switch res.code {
	case arithOK:
		s.replyClassic(w, req, string(res.reply))
	case arithNotFound:
		s.replyClassic(w, req, "NOT_FOUND")
	case arithNonNumeric:
		s.replyClassic(w, req, msgNonNumeric)
	default:
		s.replyClassic(w, req, "SERVER_ERROR out of memory")
	}
}

// args returns req.Args without a trailing noreply, whether or not the
// parser left it there.
func args(req *ascii.Request) [][]byte {
	a := req.Args
	if req.NoReply && len(a) > 0 && string(a[len(a)-1]) == "noreply" {
		a = a[:len(a)-1]
	}
	return a
}

func (s *Server) execFlush(w *bufio.Writer, req *ascii.Request) {
	var delay int64
	if a := args(req); len(a) > 0 {
		d, err := strconv.ParseInt(string(a[0]), 10, 32)
		if err != nil {
			s.replyClassic(w, req, "CLIENT_ERROR invalid exptime argument")
			return
		}
		delay = d
	}
	s.store.flush(delay)
	s.replyClassic(w, req, "OK")
}

func (s *Server) execVerbosity(w *bufio.Writer, req *ascii.Request) {
	a := args(req)
	if len(a) == 0 {
		if !req.NoReply {
			writeLine(w, "ERROR")
		}
		return
	}
	level, ok := ascii.ParseUint32(a[0])
	if !ok {
		s.replyClassic(w, req, msgBadFormat)
		return
	}
	s.verbosity.Store(min(level, 2)) // memcached's MAX_VERBOSITY_LEVEL
	s.replyClassic(w, req, "OK")
}
