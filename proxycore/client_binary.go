package proxycore

import (
	"errors"
	"io"
	"time"

	"github.com/moxifleet/moxi/internal/binproto"
)

// Limits on a group of quiet commands held before dispatch, so that a
// client streaming quiet sets cannot make the proxy buffer without bound.
const (
	maxGroupPackets = 1024
	maxGroupBytes   = 1 << 20
)

// readLoopBinary reads binary requests. Quiet commands (GETKQ, SETQ, ...)
// are collected into one group request until a non-quiet command arrives
// or the client has nothing more buffered, then sent together, each
// server's share followed by a NOOP whose reply marks its end. That is how
// the usual GETKQ... NOOP multi-get becomes one fan-out.
func (cc *clientConn) readLoopBinary() {
	rd := binproto.NewReader(cc.br, cc.srv.cfg.MaxItemSize)
	// The proxy serves SASL (bucket selection) and verbosity itself, so
	// it frames them as a memcached that serves them does.
	rd.ServeSASL()
	rd.ServeVerbosity()
	var group *request
	for {
		r := getRequest(cc)
		r.binary, r.form = true, formBinary
		var err error
		cc.armIdle()
		r.raw, err = rd.Next(&r.bin, r.raw)
		if fc := cc.b.fc; err == nil && fc != nil {
			fc.forgetBinary(&r.bin, false)
		}
		if err == nil && groupable(r.bin.Opcode) {
			group = cc.addToGroup(group, r)
			if cc.br.Buffered() == 0 || group.quiet >= maxGroupPackets || len(group.raw) >= maxGroupBytes {
				if !cc.sendGroup(group) {
					return
				}
				group = nil
			}
			continue
		}
		if group != nil {
			if !cc.sendGroup(group) {
				putRequest(r)
				return
			}
			group = nil
		}
		if err != nil {
			if !cc.binaryReadError(r, err) {
				return
			}
			continue
		}
		r.replyKeys = binValueKeys(r.bin.Opcode)
		if !cc.admit(r) {
			putRequest(r)
			return
		}
		r.started = time.Now()
		cc.dispatchBinary(r)
		if took, ok := cc.answerInline(r); took {
			if !ok {
				return
			}
			continue
		}
		closing := r.close
		cc.enqueue(r)
		if closing {
			return
		}
	}
}

// groupable reports whether op is a quiet command with a key, held for a
// group. FLUSHQ and QUITQ are not: they are not routed by key.
func groupable(op binproto.Opcode) bool {
	return op.IsQuiet() && op != binproto.OpFlushQ && op != binproto.OpQuitQ
}

// addToGroup adds the quiet request r to group, starting one with r.
func (cc *clientConn) addToGroup(group, r *request) *request {
	keys := binValueKeys(r.bin.Opcode)
	if group == nil {
		r.quiet = 1
		r.replyKeys = keys
		r.started = time.Now()
		r.packets = append(r.packets[:0], packetAt(&r.bin, 0, len(r.raw)))
		return r
	}
	off := len(group.raw)
	group.raw = append(group.raw, r.raw...)
	group.packets = append(group.packets, packetAt(&r.bin, off, len(group.raw)))
	group.quiet++
	group.replyKeys += keys
	putRequest(r)
	return group
}

// packetAt records a packet the reader parsed (p) that sits at
// raw[off:end] of its group, so that the group is not parsed again.
func packetAt(p *binproto.Packet, off, end int) groupPacket {
	keyOff := off + binproto.HeaderLen + int(p.ExtLen)
	return groupPacket{off: int32(off), end: int32(end), opaque: p.Opaque,
		keyOff: int32(keyOff), keyEnd: int32(keyOff + len(p.Key))}
}

// sendGroup dispatches a group once the reply budget admits it. It
// reports false, with g recycled, when the client is closing instead.
func (cc *clientConn) sendGroup(g *request) bool {
	if !cc.admit(g) {
		putRequest(g)
		return false
	}
	cc.forward(g, cc.forwardGroupB2B)
	cc.enqueue(g)
	return true
}

// binValueKeys is how many values a binary command's reply may carry.
func binValueKeys(op binproto.Opcode) int32 {
	switch op.Loud() {
	case binproto.OpGet, binproto.OpGetK, binproto.OpGat, binproto.OpGatK:
		return 1
	}
	return 0
}

// binaryReadError answers a request the reader refused, as memcached does,
// and reports whether to keep reading.
func (cc *clientConn) binaryReadError(r *request, err error) bool {
	var pe *binproto.Error
	if !errors.As(err, &pe) {
		if !errors.Is(err, io.EOF) && !isTimeout(err) {
			cc.srv.logger.Debug("client read failed", "remote", cc.c.RemoteAddr().String(), "err", err)
		}
		putRequest(r)
		return false
	}
	r.form, r.close = formOwn, pe.Close
	if !pe.NoReply {
		r.reply = binproto.AppendError(r.reply, r.bin.Opcode, pe.Status, r.bin.Opaque, pe.Status.Message())
	}
	r.complete()
	if pe.Status == binproto.StatusTooBig && r.bin.Opcode.Loud() == binproto.OpSet && len(r.bin.Key) > 0 {
		cc.dropKeyBinary(r.bin.Key) // before queueing r, whose buffers the writer recycles
	}
	cc.enqueue(r)
	return !pe.Close
}

// dropKeyBinary deletes key from its server without a reply to the
// client, as memcached unlinks the old item of a SET it refuses as too
// large.
func (cc *clientConn) dropKeyBinary(key []byte) {
	d := getRequest(cc)
	d.binary, d.form, d.silent = true, formBinary, true
	d.raw = binproto.AppendRequest(d.raw[:0], binproto.OpDelete, 0, 0, 0, nil, key, nil)
	d.bin.Decode(d.raw)
	d.bin.Key = d.raw[binproto.HeaderLen:]
	d.started = time.Now()
	cc.forward(d, cc.forwardKeyB2B)
	cc.enqueue(d)
}
