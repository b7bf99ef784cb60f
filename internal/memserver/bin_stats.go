package memserver

import (
	"strings"

	"github.com/moxifleet/moxi/internal/binproto"
)

// binStats appends each statistic as a STAT packet whose key is the name
// and whose value is the value, as memcached's append_bin_stats does.
type binStats struct {
	bc *binConn
	h  *binproto.Header
}

func (b binStats) stat(name string, v []byte) {
	b.bc.out = binproto.AppendResponse(b.bc.out, b.h.Opcode, binproto.StatusOK, b.h.Opaque, 0, nil, []byte(name), v)
}

// end appends the empty packet that terminates a statistics reply.
func (b binStats) end() {
	b.bc.out = binproto.AppendResponse(b.bc.out, b.h.Opcode, binproto.StatusOK, b.h.Opaque, 0, nil, nil, nil)
}

// stats serves STAT. The key selects the group as in memcached's
// process_bin_stat, which matches reset, settings and detail by prefix
// and the other groups exactly; groups memcached does not serve in binary
// (conns, cachedump among them) get "Not found".
func (bc *binConn) stats(p *binproto.Packet) {
	bs := binStats{bc: bc, h: &p.Header}
	sw := &statWriter{sink: bs}
	group := string(p.Key)
	switch {
	case group == "":
		bc.s.generalStats(sw)
	case strings.HasPrefix(group, "reset"):
		bc.s.store.resetStats()
	case strings.HasPrefix(group, "settings"):
		bc.s.settingsStats(sw)
	case strings.HasPrefix(group, "detail"):
		if !detailStats(sw, group[len("detail"):]) {
			bc.failStatus(&p.Header, binproto.StatusKeyNotFound)
			return
		}
	case group == "sizes":
		sw.s("sizes_status", "disabled")
	case group == "sizes_disable":
		sw.s("sizes_status", "disabled")
		return // memcached sends no terminator here
	case group == "items":
		bc.s.itemsStats(sw)
	case group == "slabs":
		bc.s.slabsStats(sw)
	default:
		bc.failStatus(&p.Header, binproto.StatusKeyNotFound)
		return
	}
	bs.end()
}

// detailStats serves "detail on|off|dump" (sub is what follows "detail")
// and reports false for anything else. Detail recording is not kept, so
// a dump is the empty one: "END\r\n" under the name "detailed".
func detailStats(sw *statWriter, sub string) bool {
	switch {
	case strings.HasPrefix(sub, " dump"):
		sw.s("detailed", "END\r\n")
	case strings.HasPrefix(sub, " on"), strings.HasPrefix(sub, " off"):
	default:
		return false
	}
	return true
}
