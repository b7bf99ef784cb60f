package proxycore

import (
	"bytes"
	"encoding/binary"

	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/binproto"
)

// broadcastA2B sends flush_all or stats to every server as binary FLUSH or
// STAT and answers in text.
func (cc *clientConn) broadcastA2B(r *request, rt *routing) {
	cmd := &r.cmd
	r.silent = cmd.NoReply
	for range rt.servers {
		if cmd.Op == ascii.OpFlushAll {
			o := r.newOp(replyBinOne, r.b.beh.DownstreamRetry)
			o.out = appendFlushA2B(o.out, cmd)
		} else {
			o := r.newOp(replyBinStats, r.b.beh.DownstreamRetry)
			key := bytes.Join(cmd.Args, []byte{' '})
			o.out = binproto.AppendRequest(o.out, binproto.OpStat, 0, 0, 0, nil, key, nil)
		}
	}
	r.finish = finishStatsA2B
	if cmd.Op == ascii.OpFlushAll {
		r.finish = finishFlushA2B
	}
	r.left.Add(int32(len(r.ops)))
	for i, o := range r.ops {
		r.send(rt.servers[i], o)
	}
	r.flush()
}

// appendFlushA2B encodes flush_all [delay] as FLUSH, with the delay as a
// 4-byte expiration only when one was given.
func appendFlushA2B(dst []byte, cmd *ascii.Request) []byte {
	var ext []byte
	if len(cmd.Args) > 0 && string(cmd.Args[0]) != "noreply" {
		ext = binary.BigEndian.AppendUint32(nil, uint32(cmd.Exptime))
	}
	return binproto.AppendRequest(dst, binproto.OpFlush, 0, 0, 0, ext, nil, nil)
}

// finishFlushA2B answers OK when any server flushed.
func finishFlushA2B(r *request) {
	r.form = formOwn
	for _, o := range r.ops {
		if o.status == opOK && len(o.reply) >= binproto.HeaderLen {
			var h binproto.Header
			h.Decode(o.reply)
			if h.Status() == binproto.StatusOK {
				r.reply = append(r.reply, "OK\r\n"...)
				return
			}
		}
	}
	r.reply = appendDownstreamError(r.reply, r.ops[0])
}

// finishStatsA2B merges the servers' STAT packets into text STAT lines.
func finishStatsA2B(r *request) {
	r.form = formOwn
	var m statsMerger
	answered := false
	var text []byte
	for _, o := range r.ops {
		if o.status != opOK {
			continue
		}
		var errLine string
		text, errLine = statsText(text[:0], o.reply)
		if errLine != "" {
			r.reply = append(r.reply, errLine...)
			return
		}
		answered = true
		m.addReply(text)
	}
	if !answered {
		r.reply = appendDownstreamError(r.reply, r.ops[0])
		return
	}
	if isStatsLine(r.cmd.Args) {
		r.reply = append(r.reply, statsLineReply(r.cmd.Args)...)
		return
	}
	r.reply = m.appendTo(r.reply)
	r.reply = append(r.reply, lineEND...)
}

// statsText turns STAT response packets into "STAT name value" lines. A
// server refusing the group (an unknown one) makes the text reply ERROR.
func statsText(dst, resp []byte) ([]byte, string) {
	errLine := ""
	eachPacket(resp, func(p *binproto.Packet, _ []byte) {
		if p.Status() != binproto.StatusOK {
			errLine = "ERROR\r\n"
			return
		}
		if len(p.Key) > 0 {
			dst = append(append(append(append(dst, "STAT "...), p.Key...), ' '), p.Value...)
			dst = append(dst, "\r\n"...)
		}
	})
	return dst, errLine
}

// statsLineReply is the one-line text reply of "stats reset" and
// "stats detail on|off".
func statsLineReply(args [][]byte) string {
	if string(args[0]) == "reset" {
		return "RESET\r\n"
	}
	return "OK\r\n"
}
