package a2b

import (
	"encoding/binary"
	"strconv"

	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/binproto"
)

// errA2BBadResponse answers a command whose response bytes are not a
// whole packet; the connection's reader should never hand such bytes over.
const errA2BBadResponse = "SERVER_ERROR a2b error\r\n"

// Reply appends to dst the exact text reply memcached 1.6.18 itself
// would have sent for cmd, given resp: the raw response packets read for
// the request Request built, concatenated (one packet when not fenced;
// when fenced, zero or more packets then the NOOP response). For noreply
// commands and successful (or, for mg, missed) quiet meta commands it
// appends nothing.
//
// A quiet request is answered by at most one packet before the NOOP's, so
// only the first packet matters: when it is the NOOP's own response the
// quiet command succeeded silently.
func Reply(dst []byte, cmd *ascii.Request, resp []byte) []byte {
	if cmd.NoReply {
		return dst
	}
	var p binproto.Packet
	if !firstPacket(resp, &p) {
		return append(dst, errA2BBadResponse...)
	}
	if p.Opcode == binproto.OpNoop {
		return dst
	}
	switch cmd.Op {
	case ascii.OpSet, ascii.OpAdd, ascii.OpReplace, ascii.OpAppend, ascii.OpPrepend, ascii.OpCas:
		return append(dst, storeText(cmd.Op, p.Status())...)
	case ascii.OpDelete:
		return append(dst, deleteText(p.Status())...)
	case ascii.OpIncr, ascii.OpDecr:
		return arithReply(dst, &p)
	case ascii.OpTouch:
		return append(dst, touchText(p.Status())...)
	case ascii.OpMetaGet:
		return mgReply(dst, cmd, &p)
	case ascii.OpMetaSet:
		return msReply(dst, cmd, &p)
	case ascii.OpMetaDelete:
		return mdReply(dst, cmd, &p)
	case ascii.OpMetaArith:
		return maReply(dst, cmd, &p)
	}
	return append(dst, errA2BParse...)
}

// firstPacket splits the first packet of resp into p. It reports false
// when resp does not start with a whole packet.
func firstPacket(resp []byte, p *binproto.Packet) bool {
	if len(resp) < binproto.HeaderLen {
		return false
	}
	p.Decode(resp)
	e, k, n := int(p.ExtLen), int(p.KeyLen), int(p.BodyLen)
	if e+k > n || len(resp)-binproto.HeaderLen < n {
		return false
	}
	body := resp[binproto.HeaderLen : binproto.HeaderLen+n]
	p.Extras, p.Key, p.Value = body[:e:e], body[e:e+k:e+k], body[e+k:]
	return true
}

// storeText is memcached's text answer to set, add, replace, append,
// prepend and cas. Binary says KEY_EEXISTS where text add says NOT_STORED,
// and KEY_ENOENT where text replace says NOT_STORED; only cas says
// NOT_FOUND for a missing key. Binary append/prepend on a missing key
// already say NOT_STORED.
func storeText(op ascii.Op, st binproto.Status) string {
	switch st {
	case binproto.StatusOK:
		return "STORED\r\n"
	case binproto.StatusKeyExists:
		if op == ascii.OpAdd {
			return "NOT_STORED\r\n"
		}
		return "EXISTS\r\n"
	case binproto.StatusKeyNotFound:
		if op == ascii.OpCas {
			return "NOT_FOUND\r\n"
		}
		return "NOT_STORED\r\n"
	case binproto.StatusNotStored:
		return "NOT_STORED\r\n"
	}
	return storeErrorText(st)
}

// deleteText answers delete. EEXISTS cannot happen (text delete sends no
// CAS) but would mean EXISTS, as moxi said.
func deleteText(st binproto.Status) string {
	switch st {
	case binproto.StatusOK:
		return "DELETED\r\n"
	case binproto.StatusKeyNotFound:
		return "NOT_FOUND\r\n"
	case binproto.StatusKeyExists:
		return "EXISTS\r\n"
	}
	return a2bStatusText(st)
}

// touchText answers touch. moxi said STORED on success; memcached says
// TOUCHED.
func touchText(st binproto.Status) string {
	switch st {
	case binproto.StatusOK:
		return "TOUCHED\r\n"
	case binproto.StatusKeyNotFound:
		return "NOT_FOUND\r\n"
	}
	return a2bStatusText(st)
}

// arithReply answers incr and decr: the new value in decimal.
func arithReply(dst []byte, p *binproto.Packet) []byte {
	switch st := p.Status(); st {
	case binproto.StatusOK:
		if len(p.Value) != 8 {
			return append(dst, errA2BBadResponse...)
		}
		dst = strconv.AppendUint(dst, binary.BigEndian.Uint64(p.Value), 10)
		return append(dst, '\r', '\n')
	case binproto.StatusKeyNotFound:
		return append(dst, "NOT_FOUND\r\n"...)
	case binproto.StatusKeyExists:
		return append(dst, "EXISTS\r\n"...)
	default:
		return append(dst, arithErrorText(st)...)
	}
}
