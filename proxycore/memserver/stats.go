package memserver

import (
	"bufio"
	"os"
	"runtime"
	"strconv"

	"github.com/moxifleet/moxi/proxycore/ascii"
)

// statSink receives one statistic in the protocol's own form: a text
// line or a binary STAT packet.
type statSink interface {
	stat(name string, value []byte)
}

// statWriter formats statistics for a sink, reusing one buffer.
type statWriter struct {
	sink statSink
	buf  []byte
}

func (sw *statWriter) u(name string, v uint64) { sw.line(name, strconv.AppendUint(sw.buf[:0], v, 10)) }
func (sw *statWriter) i(name string, v int64)  { sw.line(name, strconv.AppendInt(sw.buf[:0], v, 10)) }
func (sw *statWriter) s(name, v string)        { sw.line(name, append(sw.buf[:0], v...)) }

func (sw *statWriter) line(name string, v []byte) {
	sw.sink.stat(name, v)
	sw.buf = v
}

// textStats writes "STAT name value" lines.
type textStats struct{ w *bufio.Writer }

func (t textStats) stat(name string, v []byte) {
	_, _ = t.w.WriteString("STAT ")
	_, _ = t.w.WriteString(name)
	_ = t.w.WriteByte(' ')
	_, _ = t.w.Write(v)
	_, _ = t.w.WriteString("\r\n")
}

// execStats serves "stats [group]". Groups memcached knows but this server
// has nothing to report for answer with an empty list; unknown groups get
// ERROR, as in memcached.
func (s *Server) execStats(w *bufio.Writer, req *ascii.Request) {
	sw := &statWriter{sink: textStats{w}}
	group := ""
	if len(req.Args) > 0 {
		group = string(req.Args[0])
	}
	switch group {
	case "":
		s.generalStats(sw)
	case "reset":
		s.store.resetStats()
		writeLine(w, "RESET")
		return
	case "settings":
		s.settingsStats(sw)
	case "detail":
		s.detailStats(w, req)
		return
	case "sizes":
		sw.s("sizes_status", "disabled")
	case "items", "slabs", "conns":
	default:
		writeLine(w, "ERROR")
		return
	}
	writeLine(w, "END")
}

func (s *Server) detailStats(w *bufio.Writer, req *ascii.Request) {
	sub := ""
	if len(req.Args) > 1 {
		sub = string(req.Args[1])
	}
	switch sub {
	case "on", "off":
		writeLine(w, "OK")
	case "dump":
		writeLine(w, "END")
	default:
		writeLine(w, "CLIENT_ERROR usage: stats detail on|off|dump")
	}
}

func (s *Server) generalStats(sw *statWriter) {
	st, items, bytes := s.store.stats()
	now := s.cfg.Clock()
	sw.i("pid", int64(os.Getpid()))
	sw.i("uptime", int64(now.Sub(s.started).Seconds()))
	sw.i("time", now.Unix())
	sw.s("version", s.cfg.Version)
	sw.i("pointer_size", 64)
	sw.i("curr_connections", s.currConns.Load())
	sw.u("total_connections", s.totalConns.Load())
	sw.u("cmd_get", st.cmdGet)
	sw.u("cmd_set", st.cmdSet)
	sw.u("cmd_flush", st.cmdFlush)
	sw.u("cmd_touch", st.cmdTouch)
	sw.u("get_hits", st.getHits)
	sw.u("get_misses", st.getMisses)
	sw.u("get_expired", st.getExpired)
	sw.u("get_flushed", st.getFlushed)
	sw.u("delete_misses", st.deleteMisses)
	sw.u("delete_hits", st.deleteHits)
	sw.u("incr_misses", st.incrMisses)
	sw.u("incr_hits", st.incrHits)
	sw.u("decr_misses", st.decrMisses)
	sw.u("decr_hits", st.decrHits)
	sw.u("cas_misses", st.casMisses)
	sw.u("cas_hits", st.casHits)
	sw.u("cas_badval", st.casBadval)
	sw.u("touch_hits", st.touchHits)
	sw.u("touch_misses", st.touchMisses)
	sw.u("store_no_memory", st.storeNoMemory)
	sw.i("limit_maxbytes", s.cfg.MaxBytes)
	sw.i("threads", int64(runtime.GOMAXPROCS(0)))
	sw.i("bytes", bytes)
	sw.i("curr_items", int64(items))
	sw.u("total_items", st.totalItems)
	sw.u("expired_unfetched", st.expiredUnfetched)
	sw.u("evicted_unfetched", st.evictedUnfetched)
	sw.u("evictions", st.evictions)
	sw.u("reclaimed", st.reclaimed)
}

func (s *Server) settingsStats(sw *statWriter) {
	sw.i("maxbytes", s.cfg.MaxBytes)
	sw.u("verbosity", uint64(s.verbosity.Load()))
	sw.s("evictions", pick(s.cfg.NoEvict, "off", "on"))
	sw.s("cas_enabled", "yes")
	sw.i("num_threads", int64(runtime.GOMAXPROCS(0)))
	sw.i("item_size_max", int64(s.cfg.MaxItemSize))
}
