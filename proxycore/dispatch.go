package proxycore

import (
	"log/slog"
	"strconv"

	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/binproto"
)

// dispatch answers local commands at once and sends the rest downstream.
// It never blocks on a server; replies arrive through opDone.
func (cc *clientConn) dispatch(r *request) {
	cmd := &r.cmd
	r.form = textForm(cmd.Op)
	if fc := cc.b.fc; fc != nil {
		fc.forgetText(cmd, false)
	}
	if ks := cc.b.ks; ks != nil && mayChange(cmd.Op) && len(cmd.Key) > 0 {
		ks.noteSet(cmd.Key)
	}
	switch cmd.Op {
	case ascii.OpQuit:
		r.silent, r.close = true, true
		r.complete()
	case ascii.OpVersion:
		r.form = formOwn
		r.reply = append(append(append(r.reply, "VERSION "...), cc.srv.cfg.Version...), "\r\n"...)
		r.complete()
	case ascii.OpVerbosity:
		cc.srv.setVerbosity(cmd.Args)
		r.silent, r.form = cmd.NoReply, formOwn
		r.reply = append(r.reply, "OK\r\n"...)
		r.complete()
	case ascii.OpMetaNoop:
		r.form = formOwn
		r.reply = append(r.reply, "MN\r\n"...)
		r.complete()
	case ascii.OpStats:
		if isProxyStats(cmd.Args) {
			r.form = formOwn
			r.reply = cc.srv.statsProxy(r.reply, cmd.Args)
			r.complete()
			return
		}
		cc.forward(r, cc.broadcast)
	case ascii.OpFlushAll:
		cc.forward(r, cc.broadcast)
	case ascii.OpGet, ascii.OpGets, ascii.OpGat, ascii.OpGats:
		cc.forward(r, cc.forwardGet)
	default:
		if cc.b.beh.OptimizeSet != "" && cc.optimizeSet(r) {
			return
		}
		cc.forward(r, cc.forwardKey)
	}
}

// refuse completes r without sending it: text clients get line, binary
// clients status, once for every command of a group.
func (r *request) refuse(st binproto.Status, line string) {
	r.setRefusal(st, line)
	r.complete()
}

// setRefusal makes refuse's reply without completing r, for a request
// that forward's dispatch guard will complete.
func (r *request) setRefusal(st binproto.Status, line string) {
	r.form, r.refused = formOwn, true
	if !r.binary {
		r.reply = append(r.reply, line...)
		return
	}
	msg := st.ProxyMessage()
	if st == binproto.StatusNotSupported {
		msg = "moxi: binary clients need -Z downstream_protocol=binary"
	}
	if r.quiet == 0 {
		r.reply = binproto.AppendError(r.reply, r.bin.Opcode, st, r.bin.Opaque, msg)
	} else {
		eachPacket(r.raw, func(p *binproto.Packet, _ []byte) {
			r.reply = binproto.AppendError(r.reply, p.Opcode, st, p.Opaque, msg)
		})
	}
}

// noServer answers a request whose vbucket no server owns yet. It is
// called from a send function, so the dispatch guard completes r.
func (r *request) noServer() {
	r.setRefusal(binproto.StatusInternal, "SERVER_ERROR proxy write to downstream\r\n")
}

// forward takes a downstream_max token and the current routing, then
// hands the request to send. Failures to get either are answered here.
//
// While send runs, forward holds one count of r.left, the dispatch guard,
// and drops it when send returns. So whatever send does (queue one op,
// many, or none at all, as for a gat with no key or a get whose keys no
// server owns), r ends exactly once, in countDown, which is also the one
// place that returns the token.
func (cc *clientConn) forward(r *request, send func(*request, *routing)) {
	b := r.b
	switch {
	case b.isNull:
		r.refuse(binproto.StatusAuthError, nullReplyASCII(r.cmd.Line))
		return
	case r.binary && !b.binaryDownstream():
		r.refuse(binproto.StatusNotSupported, "")
		return
	}
	rt := b.routing()
	if rt == nil || len(rt.servers) == 0 {
		r.refuse(binproto.StatusInternal, "SERVER_ERROR proxy out of downstreams\r\n")
		return
	}
	if !b.acquire() {
		r.refuse(binproto.StatusBusy, "SERVER_ERROR proxy wait queue timeout\r\n")
		return
	}
	r.heldSem, r.rt = true, rt
	b.stats.inc(totAssignDownstream)
	r.left.Store(1)
	send(r, rt)
	r.countDown()
}

// forwardKey sends a single-key command to the key's server.
func (cc *clientConn) forwardKey(r *request, rt *routing) {
	cmd := &r.cmd
	if r.answerMetaFromCache() {
		return
	}
	idx, vb := rt.locate(cmd.Key)
	if idx < 0 {
		r.noServer()
		return
	}
	srv := rt.servers[idx]
	if srv.speaksBinary() && r.viaText && textAllowed(r.b, rt) {
		srv = srv.textTwin()
	}
	if srv.speaksBinary() {
		cc.forwardKeyA2B(r, idx, vb)
		return
	}
	kind := replyLine
	if cmd.Op.IsMeta() {
		kind = replyMeta
		if cmd.Quiet {
			kind = replyMetaQuiet
		}
	}
	o := r.newOp(kind, r.b.beh.DownstreamRetry)
	o.out = encodeCommand(o.out, cmd)
	r.silent = cmd.NoReply
	r.finish = finishSingle
	r.left.Add(1)
	r.send(srv, o)
	r.flush()
}

// broadcast sends flush_all or stats to every server and merges replies.
func (cc *clientConn) broadcast(r *request, rt *routing) {
	cmd := &r.cmd
	servers := rt.servers
	if r.b.binaryDownstream() {
		if !r.viaText || !textAllowed(r.b, rt) {
			cc.broadcastA2B(r, rt)
			return
		}
		servers = textTwins(r.targets[:0], rt.servers)
		r.targets = servers
	}
	kind := replyStats
	r.finish = finishStats
	if cmd.Op == ascii.OpFlushAll || isStatsLine(cmd.Args) {
		kind, r.finish = replyLine, finishFirstLine
	}
	r.silent = cmd.NoReply
	for range servers {
		o := r.newOp(kind, r.b.beh.DownstreamRetry)
		o.out = encodeCommand(o.out, cmd)
	}
	r.left.Add(int32(len(r.ops)))
	for i, o := range r.ops {
		r.send(servers[i], o)
	}
	r.flush()
}

// textTwins appends each server's text twin to dst.
func textTwins(dst, servers []*downstream) []*downstream {
	for _, s := range servers {
		dst = append(dst, s.textTwin())
	}
	return dst
}

// isStatsLine reports whether a stats group answers one line, not STATs.
func isStatsLine(args [][]byte) bool {
	if len(args) == 0 {
		return false
	}
	switch string(args[0]) {
	case "reset":
		return true
	case "detail":
		return len(args) > 1 && string(args[1]) != "dump"
	}
	return false
}

// isProxyStats matches "stats proxy ..." (moxi matched the prefix "prox").
func isProxyStats(args [][]byte) bool {
	return len(args) > 0 && len(args[0]) >= 4 && string(args[0][:4]) == "prox"
}

// setVerbosity applies "verbosity N" to the process log level.
func (s *Server) setVerbosity(args [][]byte) {
	if len(args) == 0 {
		return
	}
	if n, err := strconv.Atoi(string(args[0])); err == nil {
		s.setVerbosityLevel(n)
	}
}

// setVerbosityLevel sets the process log level from a verbosity count.
func (s *Server) setVerbosityLevel(n int) {
	if s.deps.Level != nil {
		s.deps.Level.Set(LevelForVerbosity(n))
	}
}

// LevelForVerbosity maps moxi's -v count to a log level: 0 warnings and
// errors, 1 informational, 2 per-command debug, 3 and more internals.
func LevelForVerbosity(n int) slog.Level {
	switch {
	case n <= 0:
		return slog.LevelWarn
	case n == 1:
		return slog.LevelInfo
	case n == 2:
		return slog.LevelDebug
	}
	return slog.LevelDebug - 4
}
