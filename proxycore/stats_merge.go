package proxycore

import (
	"bytes"
	"strconv"
	"strings"
)

// statsMerger merges the stats replies of several servers by stat name, as
// moxi does: some values are taken from the first server, some are the
// maximum, the rest are summed. Names keep the order first seen.
type statsMerger struct {
	names []string
	vals  map[string]string
	other [][]byte // lines that are not "STAT name value", passed through
}

// firstWins and maxWins are matched as substrings of the part of a stat
// name from its last ':' on, as moxi matches them.
var (
	firstWins = []string{"pid", "version", "libevent", "ep_dbname", "ep_storage_type", "ep_flusher_state", "ep_warmup_thread"}
	maxWins   = []string{"uptime", "time", "pointer_size", "limit_maxbytes", "accepting_conns", ":chunk_size", ":chunk_per_page", ":age"}
)

func (m *statsMerger) addReply(reply []byte) {
	for len(reply) > 0 {
		i := bytes.IndexByte(reply, '\n')
		if i < 0 {
			i = len(reply) - 1
		}
		line := reply[:i+1]
		reply = reply[i+1:]
		m.addLine(line)
	}
}

func (m *statsMerger) addLine(line []byte) {
	if bytes.Equal(line, lineEND) {
		return
	}
	f := strings.Fields(string(line))
	if len(f) != 3 || f[0] != "STAT" {
		m.other = append(m.other, line)
		return
	}
	if m.vals == nil {
		m.vals = make(map[string]string)
	}
	name, val := f[1], f[2]
	old, seen := m.vals[name]
	if !seen {
		m.names = append(m.names, name)
		m.vals[name] = val
		return
	}
	m.vals[name] = mergeStat(name, old, val)
}

func mergeStat(name, a, b string) string {
	tail := name
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		tail = name[i:]
	}
	if containsAny(tail, firstWins) {
		return a
	}
	if containsAny(tail, maxWins) {
		return maxStat(a, b)
	}
	return sumStat(a, b)
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func maxStat(a, b string) string {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 != nil || err2 != nil || x >= y {
		return a
	}
	return b
}

// sumStat adds two values: as floats when either has a '.', else as
// unsigned integers; a non-numeric value keeps the first.
func sumStat(a, b string) string {
	if strings.Contains(a, ".") || strings.Contains(b, ".") {
		x, err1 := strconv.ParseFloat(a, 64)
		y, err2 := strconv.ParseFloat(b, 64)
		if err1 != nil || err2 != nil {
			return a
		}
		return strconv.FormatFloat(x+y, 'f', 6, 64)
	}
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil {
		return a
	}
	return strconv.FormatUint(x+y, 10)
}

func (m *statsMerger) appendTo(dst []byte) []byte {
	for _, n := range m.names {
		dst = append(dst, "STAT "...)
		dst = append(dst, n...)
		dst = append(dst, ' ')
		dst = append(dst, m.vals[n]...)
		dst = append(dst, "\r\n"...)
	}
	for _, l := range m.other {
		dst = append(dst, l...)
	}
	return dst
}
