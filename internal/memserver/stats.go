package memserver

import (
	"bufio"
	"strconv"

	"github.com/moxifleet/moxi/internal/ascii"
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

// execStats serves "stats [group]" with memcached's groups and replies;
// unknown groups get ERROR, as in memcached. Arguments after a group are
// ignored, as memcached does.
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
	case "items":
		s.itemsStats(sw)
	case "slabs":
		s.slabsStats(sw)
	case "conns":
		s.connsStats(sw)
	case "cachedump":
		cls, limit, errLine := parseCachedump(req.Args)
		if errLine != "" {
			writeLine(w, errLine)
			return
		}
		_, _ = w.Write(s.store.cachedump(cls, limit))
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
