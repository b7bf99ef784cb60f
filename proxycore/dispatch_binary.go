package proxycore

import (
	"bytes"
	"encoding/binary"

	"github.com/moxifleet/moxi/internal/binproto"
)

// dispatchBinary answers a binary client's local commands at once and
// sends the rest downstream.
func (cc *clientConn) dispatchBinary(r *request) {
	p := &r.bin
	switch p.Opcode {
	case binproto.OpVersion:
		r.localReply(binproto.StatusOK, []byte(cc.srv.cfg.Version))
	case binproto.OpNoop:
		r.localReply(binproto.StatusOK, nil)
	case binproto.OpQuit:
		r.localReply(binproto.StatusOK, nil)
		r.close = true
	case binproto.OpQuitQ:
		r.form, r.silent, r.close = formOwn, true, true
		r.complete()
	case binproto.OpVerbosity:
		cc.srv.setVerbosityLevel(int(int32(binary.BigEndian.Uint32(p.Extras))))
		r.localReply(binproto.StatusOK, nil)
	case binproto.OpSASLListMechs:
		r.localReply(binproto.StatusOK, []byte("PLAIN"))
	case binproto.OpSASLAuth:
		cc.saslAuth(r)
	case binproto.OpSASLStep:
		r.localReply(binproto.StatusAuthError, []byte("Auth failure"))
	case binproto.OpStat:
		if isProxyStats(bytes.Fields(p.Key)) {
			text := cc.srv.statsProxy(nil, bytes.Fields(p.Key))
			r.form = formOwn
			r.reply = appendStatPackets(r.reply, text, p.Opaque)
			r.complete()
			return
		}
		cc.forward(r, cc.broadcastB2B)
	case binproto.OpFlush, binproto.OpFlushQ:
		cc.forward(r, cc.broadcastB2B)
	default:
		cc.forward(r, cc.forwardKeyB2B)
	}
}

// localReply completes r with a response the proxy makes itself; an error
// status puts value in the body as the message.
func (r *request) localReply(st binproto.Status, value []byte) {
	r.form = formOwn
	r.reply = binproto.AppendResponse(r.reply, r.bin.Opcode, st, r.bin.Opaque, 0, nil, nil, value)
	r.complete()
}

// forwardKeyB2B sends a keyed binary request to its server byte for byte;
// the reply comes back byte for byte, opaque and CAS included.
func (cc *clientConn) forwardKeyB2B(r *request, rt *routing) {
	if r.answerBinaryFromCache() {
		return
	}
	idx, vb := rt.locate(r.bin.Key)
	if idx < 0 {
		r.noServer()
		return
	}
	srv := rt.servers[idx]
	o := r.newOp(replyBinOne, r.b.beh.DownstreamRetry)
	o.out = append(o.out, r.raw...)
	if rt.m.IsVBucket() {
		binproto.SetVBucket(o.out, vb)
		o.vb, o.vbLeft = vb, rt.maxVBucketRetries()
	}
	r.finish = finishB2B
	r.left.Add(1)
	r.send(srv, o)
	r.flush()
}

// finishB2B turns a failed exchange into moxi's binary error reply.
func finishB2B(r *request) {
	if o := r.ops[0]; o.status != opOK {
		r.form = formOwn
		st := failureStatus(o.status)
		r.reply = binproto.AppendError(r.reply, r.bin.Opcode, st, r.bin.Opaque, st.ProxyMessage())
	}
}

// failureStatus is the status a binary client gets for a failed exchange:
// busy for a timeout, an internal error otherwise (as moxi answered).
func failureStatus(s opStatus) binproto.Status {
	if s == opTimeout {
		return binproto.StatusBusy
	}
	return binproto.StatusInternal
}

// forwardGroupB2B sends a group of quiet commands: each server gets its
// share byte for byte, then a NOOP; the reply is read up to the NOOP's.
func (cc *clientConn) forwardGroupB2B(r *request, rt *routing) {
	perServer := r.perServer(len(rt.servers))
	targets := r.targets[:0]
	vbMode := rt.m.IsVBucket()
	for i := range r.packets {
		if r.groupFromCache(i) {
			continue
		}
		gp := &r.packets[i]
		si, vb := rt.locate(r.raw[gp.keyOff:gp.keyEnd])
		if si < 0 {
			si = 0 // no owner yet: let the first server refuse it
		}
		o := perServer[si]
		if o == nil {
			o = r.newOp(replyBinFenced, r.b.beh.DownstreamRetry)
			perServer[si] = o
			targets = append(targets, rt.servers[si])
			if vbMode {
				o.vbLeft = rt.maxVBucketRetries()
			}
		}
		start := len(o.out)
		o.out = append(o.out, r.raw[gp.off:gp.end]...)
		// Each packet carries its index as opaque (see vbucket_b2b.go).
		binproto.SetOpaque(o.out[start:], uint32(i))
		if vbMode {
			binproto.SetVBucket(o.out[start:], vb)
			gp.vb = vb
		}
	}
	r.targets = targets
	for _, o := range r.ops {
		o.out = binproto.AppendRequest(o.out, binproto.OpNoop, 0, 0, 0, nil, nil, nil)
	}
	r.left.Add(int32(len(r.ops)))
	for i, o := range r.ops {
		r.send(targets[i], o)
	}
	r.flush()
}
