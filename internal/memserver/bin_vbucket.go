package memserver

import "github.com/moxifleet/moxi/internal/binproto"

// notMyVBucketMsg is the text membase's memcached puts in the body of a
// NOT_MY_VBUCKET reply; clients look at the status only.
const notMyVBucketMsg = "I'm not responsible for this vbucket"

// notMyVBucket answers a keyed request whose vbucket Config.VBucketFilter
// rejects, and reports whether it did. The reply is an error, so quiet
// requests get it too: a client batching GETKQs must learn which keys to
// send elsewhere. Requests without a key (NOOP, STAT, FLUSH...) concern the
// whole node and are always served.
func (bc *binConn) notMyVBucket(p *binproto.Packet) bool {
	accept := bc.s.cfg.VBucketFilter
	if accept == nil || !isKeyed(p.Opcode.Loud()) || accept(p.VBucket) {
		return false
	}
	bc.fail(&p.Header, binproto.StatusNotMyVBucket, notMyVBucketMsg, false)
	return true
}

// isKeyed reports whether a served (loud) opcode addresses one key, and so
// one vbucket.
func isKeyed(op binproto.Opcode) bool {
	switch op {
	case binproto.OpGet, binproto.OpGetK, binproto.OpGat, binproto.OpGatK, binproto.OpTouch,
		binproto.OpSet, binproto.OpAdd, binproto.OpReplace, binproto.OpAppend, binproto.OpPrepend,
		binproto.OpDelete, binproto.OpIncrement, binproto.OpDecrement:
		return true
	}
	return false
}
