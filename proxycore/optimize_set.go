package proxycore

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/moxifleet/moxi/internal/ascii"
)

// optimizeSet serves -Z optimize_set (the original's fire-and-forget
// set): a text set that wants a reply, whose key starts with one of the
// "|"-separated prefixes, is answered STORED at once and sent on as a set
// of the proxy's own with noreply, whose outcome nobody hears. It
// reports whether r was answered so.
func (cc *clientConn) optimizeSet(r *request) bool {
	cmd := &r.cmd
	if cmd.Op != ascii.OpSet || cmd.NoReply || !hasAnyPrefix(cmd.Key, cc.b.beh.OptimizeSet) {
		return false
	}
	line := make([]byte, 0, len(cmd.Key)+len(cmd.Data)+48)
	line = append(append(line, "set "...), cmd.Key...)
	line = append(strconv.AppendUint(append(line, ' '), uint64(cmd.Flags), 10), ' ')
	line = append(strconv.AppendInt(line, cmd.Exptime, 10), ' ')
	line = append(strconv.AppendInt(line, int64(len(cmd.Data)), 10), " noreply\r\n"...)
	line = append(append(line, cmd.Data...), "\r\n"...)
	d := cc.ownRequest(line)
	if d == nil {
		return false // cannot happen: the line is the client's own set
	}
	// Out of the reply queue, so STORED goes out before the server answers;
	// on the server's connection it still precedes the client's next
	// commands.
	d.detached = true
	cc.dispatch(d)
	cc.b.stats.inc(totOptimizeSets)
	r.form, r.reply = formOwn, append(r.reply, "STORED\r\n"...)
	r.complete()
	return true
}

// hasAnyPrefix reports whether key starts with one of the "|"-separated
// prefixes in list (none when list is empty).
func hasAnyPrefix(key []byte, list string) bool {
	for list != "" {
		var p string
		p, list, _ = strings.Cut(list, "|")
		if p != "" && bytes.HasPrefix(key, []byte(p)) {
			return true
		}
	}
	return false
}
