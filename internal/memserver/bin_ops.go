package memserver

import (
	"encoding/binary"

	"github.com/moxifleet/moxi/internal/binproto"
)

// get serves GET, GETK, GAT, GATK, their quiet forms, and TOUCH. A hit
// carries the flags as 4 bytes of extras and the CAS in the header; TOUCH
// sends no value, the K forms echo the key. Quiet forms say nothing on a
// miss; a K form's miss carries the key and no message.
func (bc *binConn) get(p *binproto.Packet, touch bool) {
	var exp int64
	if touch {
		exp = exptime(p.Extras)
	}
	v, found := bc.s.store.get(p.Key, touch, exp)
	op := p.Opcode
	var key []byte
	if op.ReturnsKey() {
		key = p.Key
	}
	switch {
	case !found && op.IsQuiet():
	case !found && key != nil:
		bc.out = binproto.AppendResponse(bc.out, op, binproto.StatusKeyNotFound, p.Opaque, 0, nil, key, nil)
	case !found:
		bc.failStatus(&p.Header, binproto.StatusKeyNotFound)
	default:
		var flags [4]byte
		binary.BigEndian.PutUint32(flags[:], v.flags)
		value := v.value
		if op == binproto.OpTouch {
			value = nil
		}
		bc.out = binproto.AppendResponse(bc.out, op, binproto.StatusOK, p.Opaque, v.cas, flags[:], key, value)
	}
}

var binModes = [...]storeMode{
	binproto.OpSet:     modeSet,
	binproto.OpAdd:     modeAdd,
	binproto.OpReplace: modeReplace,
	binproto.OpAppend:  modeAppend,
	binproto.OpPrepend: modePrepend,
}

// store serves SET, ADD, REPLACE, APPEND, PREPEND and their quiet forms.
// A non-zero request CAS turns set, add and replace into compare-and-swap
// and guards append and prepend, as in memcached.
func (bc *binConn) store(p *binproto.Packet) {
	loud := p.Opcode.Loud()
	r := storeReq{mode: binModes[loud], key: p.Key, value: p.Value, cas: p.CAS,
		dropOnNoMemory: loud == binproto.OpSet}
	if len(p.Extras) == 8 { // set, add, replace
		r.flags, r.exptime = binary.BigEndian.Uint32(p.Extras), exptime(p.Extras[4:])
		if p.CAS != 0 {
			r.mode = modeCas
		}
	}
	res, cas := bc.s.store.set(&r)
	switch res {
	case resStored:
		bc.ok(&p.Header, cas, nil)
	case resExists:
		bc.failStatus(&p.Header, binproto.StatusKeyExists)
	case resNotFound:
		bc.failStatus(&p.Header, binproto.StatusKeyNotFound)
	case resNoMemory:
		bc.fail(&p.Header, binproto.StatusNoMemory, "Out of memory allocating item", true)
	default:
		bc.failStatus(&p.Header, notStoredStatus(r.mode))
	}
}

// notStoredStatus is memcached's status for a store that did not happen
// without a more precise reason: add reports the key exists, replace that
// it does not (both only when no CAS made them a compare-and-swap).
func notStoredStatus(mode storeMode) binproto.Status {
	switch mode {
	case modeAdd:
		return binproto.StatusKeyExists
	case modeReplace:
		return binproto.StatusKeyNotFound
	}
	return binproto.StatusNotStored
}

// arith serves INCREMENT and DECREMENT: extras are the delta, the initial
// value and an expiration, 0xffffffff meaning do not create a missing
// counter. The reply is the new value as 8 big-endian bytes.
func (bc *binConn) arith(p *binproto.Packet) {
	e := p.Extras
	exp := binary.BigEndian.Uint32(e[16:])
	res := bc.s.store.arith(&arithReq{
		key: p.Key, incr: p.Opcode.Loud() == binproto.OpIncrement,
		delta: binary.BigEndian.Uint64(e), initial: binary.BigEndian.Uint64(e[8:]), cas: p.CAS,
		ttl: ttlOrder{vivify: exp != 0xffffffff, vivExptime: int64(exp)},
	})
	switch res.code {
	case arithOK:
		if !p.Opcode.IsQuiet() {
			var v [8]byte
			binary.BigEndian.PutUint64(v[:], res.value)
			bc.out = binproto.AppendResponse(bc.out, p.Opcode, binproto.StatusOK, p.Opaque, res.cas, nil, nil, v[:])
		}
	case arithNonNumeric:
		bc.failStatus(&p.Header, binproto.StatusDeltaBadValue)
	case arithNotFound:
		bc.failStatus(&p.Header, binproto.StatusKeyNotFound)
	case arithExists:
		bc.failStatus(&p.Header, binproto.StatusKeyExists)
	case arithNoMemory:
		bc.fail(&p.Header, binproto.StatusNoMemory, "Out of memory incrementing value", false)
	default:
		bc.fail(&p.Header, binproto.StatusNoMemory, "Out of memory allocating new item", false)
	}
}
