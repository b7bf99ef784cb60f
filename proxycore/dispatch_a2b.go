package proxycore

import (
	"encoding/binary"

	"github.com/moxifleet/moxi/internal/a2b"
	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/binproto"
)

// binaryDownstream reports whether the bucket speaks binary to servers.
func (b *bucket) binaryDownstream() bool { return b.beh.DownstreamProtocol == ProtocolBinary }

// forwardKeyA2B sends a text command to its server as binary. A command
// binary cannot carry (a meta flag it lacks) is answered at once.
func (cc *clientConn) forwardKeyA2B(r *request, idx int, vb uint16) {
	cmd := &r.cmd
	o := r.newOp(replyBinOne, r.b.beh.DownstreamRetry)
	o.vb, o.vbLeft = vb, r.rt.maxVBucketRetries()
	out, fenced, errLine := a2b.Request(o.out, cmd, vb)
	r.silent = cmd.NoReply
	if errLine != "" {
		// Never sent: forward's dispatch guard completes r with errLine.
		r.reply, r.form, r.silent = append(r.reply, errLine...), formOwn, false
		return
	}
	r.left.Add(1)
	o.out = out
	if fenced {
		o.kind = replyBinFenced
	}
	r.finish = finishA2B
	r.send(r.rt.servers[idx], o)
	r.flush()
}

// finishA2B translates a binary reply into the text memcached would send.
func finishA2B(r *request) {
	o := r.ops[0]
	r.form = formOwn
	if o.status != opOK {
		r.reply = appendDownstreamError(r.reply, o)
		return
	}
	r.reply = a2b.Reply(r.reply, &r.cmd, o.reply)
}

// addGetKeyA2B adds a key to a server's part of a get as a GETKQ (or
// GATKQ) packet.
// The opaque is the key's position among the op's slots, so that a
// NOT_MY_VBUCKET reply, which carries no key, says which key to refetch.
func addGetKeyA2B(o *op, cmd *ascii.Request, key []byte, vb uint16, opaque uint32) {
	if cmd.Op == ascii.OpGat || cmd.Op == ascii.OpGats {
		var ext [4]byte
		binary.BigEndian.PutUint32(ext[:], a2b.Exptime(cmd.Exptime))
		o.out = binproto.AppendRequest(o.out, binproto.OpGatKQ, vb, opaque, 0, ext[:], key, nil)
		return
	}
	o.out = binproto.AppendRequest(o.out, binproto.OpGetKQ, vb, opaque, 0, nil, key, nil)
}

// endGetA2B finishes a server's part of a get: a lone key becomes a plain
// GETK (one reply, hit or miss); several keys are fenced with a NOOP, whose
// reply marks the end, misses being silent.
func endGetA2B(o *op) {
	if len(o.slots) == 1 {
		o.out[1] = byte(binproto.Opcode(o.out[1]).Loud())
		return
	}
	o.out = binproto.AppendRequest(o.out, binproto.OpNoop, 0, 0, 0, nil, nil, nil)
	o.fenced = true
}
