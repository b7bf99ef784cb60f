package a2b

import (
	"encoding/binary"

	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/binproto"
)

// a2bMetaRequest encodes mg, ms, md and ma. Which flags each one accepts is
// a2bPolicy's business; the b flag needs nothing here because cmd.Key is
// already the decoded key, and q picks the quiet opcode plus a NOOP fence.
func a2bMetaRequest(dst []byte, cmd *ascii.Request, vbucket uint16) ([]byte, bool, string) {
	if errLine := checkA2BMeta(cmd); errLine != "" {
		return dst, false, errLine
	}
	m := &cmd.Meta
	var out []byte
	var fenced bool
	switch cmd.Op {
	case ascii.OpMetaGet:
		out, fenced = a2bMetaGet(dst, cmd, vbucket, m)
	case ascii.OpMetaSet:
		op, ok := msOpcode(m.Mode)
		if !ok {
			return dst, false, "CLIENT_ERROR invalid mode for ms M token\r\n"
		}
		out, fenced = a2bMetaSet(dst, cmd, vbucket, op, m)
	case ascii.OpMetaDelete:
		cas := uint64(0)
		if m.Has('C') {
			cas = compareCas(m.Cas)
		}
		out, fenced = a2bPacket(dst, binproto.OpDelete, cmd.Quiet, vbucket, cas, nil, cmd.Key, nil)
	case ascii.OpMetaArith:
		op, ok := maOpcode(m.Mode)
		if !ok {
			return dst, false, "CLIENT_ERROR invalid mode for ma M token\r\n"
		}
		if m.Has('N') && cmd.Quiet {
			return dst, false, errQuietVivify
		}
		out, fenced = a2bMetaArith(dst, cmd, vbucket, op, m)
	}
	return out, fenced, ""
}

// errQuietVivify refuses ma with both N and q. memcached hides the reply
// of a quiet ma that incremented but shows the one that created the item;
// a binary response does not say which happened (a decrement that hits 0
// looks just like a fresh item with J0), so the reply cannot be rebuilt.
const errQuietVivify = "CLIENT_ERROR meta flags N with q need -Z downstream_protocol=ascii\r\n"

// a2bMetaGet sends mg as GETK, or GATK when T asks to update the TTL. The
// reply's s, f, c and v come from the item the server returns.
func a2bMetaGet(dst []byte, cmd *ascii.Request, vbucket uint16, m *ascii.MetaArgs) ([]byte, bool) {
	if !m.Has('T') {
		return a2bPacket(dst, binproto.OpGetK, cmd.Quiet, vbucket, 0, nil, cmd.Key, nil)
	}
	var ext [4]byte
	binary.BigEndian.PutUint32(ext[:], Exptime(int64(m.TTL)))
	return a2bPacket(dst, binproto.OpGatK, cmd.Quiet, vbucket, 0, ext[:], cmd.Key, nil)
}

// a2bMetaSet sends ms. memcached's text ms applies C to set, replace,
// append and prepend but ignores it in add mode, while binary ADD with a
// CAS would compare; so add never carries one. Binary APPEND/PREPEND have
// no extras: like text, they keep the item's flags and TTL.
func a2bMetaSet(dst []byte, cmd *ascii.Request, vbucket uint16, op binproto.Opcode, m *ascii.MetaArgs) ([]byte, bool) {
	cas := uint64(0)
	switch op {
	case binproto.OpAppend, binproto.OpPrepend:
		// C0 means "no compare" for text append too.
		return a2bPacket(dst, op, cmd.Quiet, vbucket, m.Cas, nil, cmd.Key, cmd.Data)
	case binproto.OpSet, binproto.OpReplace:
		if m.Has('C') {
			cas = compareCas(m.Cas)
		}
	}
	var ext [8]byte
	storeExtras(&ext, m.ClientFlags, int64(m.TTL))
	return a2bPacket(dst, op, cmd.Quiet, vbucket, cas, ext[:], cmd.Key, cmd.Data)
}

// a2bMetaArith sends ma. Without N a missing key must stay missing
// (expiration 0xffffffff); with N the server creates it with J, like text.
// C0 means "no compare" in text ma as in binary.
func a2bMetaArith(dst []byte, cmd *ascii.Request, vbucket uint16, op binproto.Opcode, m *ascii.MetaArgs) ([]byte, bool) {
	expiration := uint32(noCreate)
	if m.Has('N') {
		expiration = Exptime(int64(m.Vivify)) // never 0xffffffff: negatives are mapped
	}
	var ext [20]byte
	arithExtras(&ext, m.Delta, m.Initial, expiration)
	return a2bPacket(dst, op, cmd.Quiet, vbucket, m.Cas, ext[:], cmd.Key, nil)
}

// msOpcode maps the ms M token (S set, E add, A append, P prepend,
// R replace; set when absent) to its opcode.
func msOpcode(mode byte) (binproto.Opcode, bool) {
	switch mode {
	case 0, 'S':
		return binproto.OpSet, true
	case 'E':
		return binproto.OpAdd, true
	case 'A':
		return binproto.OpAppend, true
	case 'P':
		return binproto.OpPrepend, true
	case 'R':
		return binproto.OpReplace, true
	}
	return 0, false
}

// maOpcode maps the ma M token (I or + increment, D or - decrement;
// increment when absent) to its opcode. memcached 1.6.18 refuses the
// lower-case forms.
func maOpcode(mode byte) (binproto.Opcode, bool) {
	switch mode {
	case 0, 'I', '+':
		return binproto.OpIncrement, true
	case 'D', '-':
		return binproto.OpDecrement, true
	}
	return 0, false
}
