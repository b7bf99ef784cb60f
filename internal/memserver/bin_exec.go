package memserver

import (
	"encoding/binary"

	"github.com/moxifleet/moxi/internal/binproto"
)

// exec answers one well-formed request and reports whether to keep the
// connection.
func (bc *binConn) exec(p *binproto.Packet) bool {
	if bc.notMyVBucket(p) {
		return true
	}
	switch p.Opcode.Loud() {
	case binproto.OpGet, binproto.OpGetK:
		bc.get(p, false)
	case binproto.OpGat, binproto.OpGatK, binproto.OpTouch:
		bc.get(p, true)
	case binproto.OpSet, binproto.OpAdd, binproto.OpReplace, binproto.OpAppend, binproto.OpPrepend:
		bc.store(p)
	case binproto.OpDelete:
		bc.delete(p)
	case binproto.OpIncrement, binproto.OpDecrement:
		bc.arith(p)
	case binproto.OpFlush:
		bc.flushAll(p)
	case binproto.OpStat:
		bc.stats(p)
	case binproto.OpNoop:
		bc.ok(&p.Header, 0, nil)
		bc.flushNow = true // memcached writes its queue on NOOP
	case binproto.OpVersion:
		bc.ok(&p.Header, 0, []byte(bc.s.cfg.Version))
	case binproto.OpQuit:
		bc.ok(&p.Header, 0, nil)
		return false
	default:
		// binproto refuses what memcached does not serve; should it let
		// something new through, refuse it the same way.
		bc.fail(&p.Header, binproto.StatusUnknownCommand, binproto.StatusUnknownCommand.Message(), false)
	}
	return true
}

// ok appends a success reply with an optional value, unless the request
// is a quiet one, whose successes memcached does not answer.
func (bc *binConn) ok(h *binproto.Header, cas uint64, value []byte) {
	if h.Opcode.IsQuiet() {
		return
	}
	bc.out = binproto.AppendResponse(bc.out, h.Opcode, binproto.StatusOK, h.Opaque, cas, nil, nil, value)
}

// fail appends an error reply; quiet requests get theirs too. swallowing
// says memcached is still skipping the request's value when it queues the
// reply, which keeps it from writing the queue at once as it does after
// other errors.
func (bc *binConn) fail(h *binproto.Header, st binproto.Status, msg string, swallowing bool) {
	bc.out = binproto.AppendError(bc.out, h.Opcode, st, h.Opaque, msg)
	if !swallowing {
		bc.flushNow = true
	}
}

// failStatus is fail with memcached's standard text, for errors found
// once the whole request has been read.
func (bc *binConn) failStatus(h *binproto.Header, st binproto.Status) {
	bc.fail(h, st, st.Message(), false)
}

// exptime reads a 4-byte expiration. memcached reads it unsigned, so a
// binary client cannot ask for a negative (already expired) time.
func exptime(b []byte) int64 { return int64(binary.BigEndian.Uint32(b)) }

func (bc *binConn) flushAll(p *binproto.Packet) {
	var delay int64
	if len(p.Extras) == 4 {
		delay = exptime(p.Extras)
	}
	bc.s.store.flush(delay)
	bc.ok(&p.Header, 0, nil)
}

func (bc *binConn) delete(p *binproto.Packet) {
	switch bc.s.store.deleteCas(p.Key, p.CAS) {
	case mdDeleted:
		bc.ok(&p.Header, 0, nil)
	case mdExists:
		bc.failStatus(&p.Header, binproto.StatusKeyExists)
	default:
		bc.failStatus(&p.Header, binproto.StatusKeyNotFound)
	}
}
