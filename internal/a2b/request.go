package a2b

import (
	"encoding/binary"

	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/binproto"
)

// a2b ("ascii to binary") translates the text commands of clients into
// binary requests for servers, and the binary responses back into the
// exact text memcached 1.6.18 would have replied. The request side lives
// in a2b_request*.go, the reply side in a2b_reply*.go.

// errA2BParse is moxi's reply when a command cannot be turned into binary
// (cproxy_forward_a2b_simple_downstream); here it answers commands that
// Request does not handle at all.
const errA2BParse = "CLIENT_ERROR a2b parse request\r\n"

// realtimeMaxDelta is memcached's REALTIME_MAXDELTA: exptimes above it are
// absolute Unix times.
const realtimeMaxDelta = 60 * 60 * 24 * 30

// noCreate is the INCREMENT/DECREMENT expiration that means "do not create
// a missing item", which text incr/decr never does.
const noCreate = 0xffffffff

// Request appends to dst the binary request packet(s) that carry cmd to
// a server. cmd is a single-key command: set/add/replace/append/prepend/cas,
// delete, incr/decr, touch, or a meta command mg/ms/md/ma. vbucket goes in
// every packet's vbucket field (0 when not hashing by vBucket). The opaque
// is always 0: the proxy matches replies by order.
//
// fenced=true means the packets end with a NOOP request: the command was
// sent in a quiet form (noreply, or a meta q flag), and its reply is every
// response packet up to and including the NOOP's response. fenced=false
// means exactly one response packet answers it.
//
// When binary cannot express cmd (a meta flag with no binary equivalent,
// see a2b_request_meta.go) it returns dst unchanged and errLine, the text
// line (ending "\r\n") to send the client instead.
func Request(dst []byte, cmd *ascii.Request, vbucket uint16) (out []byte, fenced bool, errLine string) {
	switch cmd.Op {
	case ascii.OpSet, ascii.OpAdd, ascii.OpReplace, ascii.OpCas:
		out, fenced = a2bStore(dst, cmd, vbucket)
	case ascii.OpAppend, ascii.OpPrepend:
		op := binproto.OpAppend
		if cmd.Op == ascii.OpPrepend {
			op = binproto.OpPrepend
		}
		out, fenced = a2bPacket(dst, op, cmd.NoReply, vbucket, 0, nil, cmd.Key, cmd.Data)
	case ascii.OpDelete:
		out, fenced = a2bPacket(dst, binproto.OpDelete, cmd.NoReply, vbucket, 0, nil, cmd.Key, nil)
	case ascii.OpIncr, ascii.OpDecr:
		out, fenced = a2bArith(dst, cmd, vbucket)
	case ascii.OpTouch:
		// TOUCH has no quiet twin: send it loud (one reply, never fenced)
		// and let Reply drop the reply of a noreply touch.
		var ext [4]byte
		binary.BigEndian.PutUint32(ext[:], Exptime(cmd.Exptime))
		out = binproto.AppendRequest(dst, binproto.OpTouch, vbucket, 0, 0, ext[:], cmd.Key, nil)
	case ascii.OpMetaGet, ascii.OpMetaSet, ascii.OpMetaDelete, ascii.OpMetaArith:
		return a2bMetaRequest(dst, cmd, vbucket)
	default:
		return dst, false, errA2BParse
	}
	return out, fenced, ""
}

// a2bStore encodes set, add, replace and cas: extras are the client flags
// and the expiration. cas becomes SET with the compare value in the header.
func a2bStore(dst []byte, cmd *ascii.Request, vbucket uint16) ([]byte, bool) {
	op, cas := binproto.OpSet, uint64(0)
	switch cmd.Op {
	case ascii.OpAdd:
		op = binproto.OpAdd
	case ascii.OpReplace:
		op = binproto.OpReplace
	case ascii.OpCas:
		cas = compareCas(cmd.Cas)
	}
	var ext [8]byte
	storeExtras(&ext, cmd.Flags, cmd.Exptime)
	return a2bPacket(dst, op, cmd.NoReply, vbucket, cas, ext[:], cmd.Key, cmd.Data)
}

// a2bArith encodes incr and decr with initial 0 and expiration 0xffffffff,
// so that a missing key is NOT_FOUND as in text, never created.
func a2bArith(dst []byte, cmd *ascii.Request, vbucket uint16) ([]byte, bool) {
	op := binproto.OpIncrement
	if cmd.Op == ascii.OpDecr {
		op = binproto.OpDecrement
	}
	var ext [20]byte
	arithExtras(&ext, cmd.Delta, 0, noCreate)
	return a2bPacket(dst, op, cmd.NoReply, vbucket, 0, ext[:], cmd.Key, nil)
}

// a2bPacket appends one request. A quiet request goes out as op's quiet
// twin followed by a NOOP, whose response marks where the (possibly
// empty) answer ends; it reports whether it did so.
func a2bPacket(dst []byte, op binproto.Opcode, quiet bool, vbucket uint16, cas uint64, extras, key, value []byte) ([]byte, bool) {
	if !quiet {
		return binproto.AppendRequest(dst, op, vbucket, 0, cas, extras, key, value), false
	}
	dst = binproto.AppendRequest(dst, op.Quiet(), vbucket, 0, cas, extras, key, value)
	return binproto.AppendRequest(dst, binproto.OpNoop, vbucket, 0, 0, nil, nil, nil), true
}

// storeExtras fills the SET/ADD/REPLACE extras: flags, then expiration.
func storeExtras(ext *[8]byte, flags uint32, exptime int64) {
	binary.BigEndian.PutUint32(ext[0:], flags)
	binary.BigEndian.PutUint32(ext[4:], Exptime(exptime))
}

// arithExtras fills the INCREMENT/DECREMENT extras: delta, initial value,
// expiration.
func arithExtras(ext *[20]byte, delta, initial uint64, expiration uint32) {
	binary.BigEndian.PutUint64(ext[0:], delta)
	binary.BigEndian.PutUint64(ext[8:], initial)
	binary.BigEndian.PutUint32(ext[16:], expiration)
}

// Exptime converts a text exptime to the binary field. Text memcached
// turns a negative exptime into REALTIME_MAXDELTA+1 (an absolute time long
// past: the item expires at once); the binary path does not, and would
// read -1 as 0xffffffff, a date in 2106. Sending REALTIME_MAXDELTA+1
// ourselves keeps text semantics.
func Exptime(exptime int64) uint32 {
	if exptime < 0 {
		return realtimeMaxDelta + 1
	}
	return uint32(exptime)
}

// compareCas is the header CAS that carries a text compare value. Text
// "cas k ... 0" (and ms/md C0) compares against 0, which no item has, so
// memcached answers EXISTS or NOT_FOUND; binary CAS 0 means "no compare"
// and would store. All ones is never an item's CAS either, so it keeps the
// text answer.
func compareCas(cas uint64) uint64 {
	if cas == 0 {
		return ^uint64(0)
	}
	return cas
}
