package binproto

// Opcode is the command byte of a packet.
type Opcode uint8

// Opcodes memcached and membase define. Membase-only opcodes are listed so
// that they can be named in logs and forwarded; memcached answers them
// with StatusUnknownCommand.
const (
	OpGet           Opcode = 0x00
	OpSet           Opcode = 0x01
	OpAdd           Opcode = 0x02
	OpReplace       Opcode = 0x03
	OpDelete        Opcode = 0x04
	OpIncrement     Opcode = 0x05
	OpDecrement     Opcode = 0x06
	OpQuit          Opcode = 0x07
	OpFlush         Opcode = 0x08
	OpGetQ          Opcode = 0x09
	OpNoop          Opcode = 0x0a
	OpVersion       Opcode = 0x0b
	OpGetK          Opcode = 0x0c
	OpGetKQ         Opcode = 0x0d
	OpAppend        Opcode = 0x0e
	OpPrepend       Opcode = 0x0f
	OpStat          Opcode = 0x10
	OpSetQ          Opcode = 0x11
	OpAddQ          Opcode = 0x12
	OpReplaceQ      Opcode = 0x13
	OpDeleteQ       Opcode = 0x14
	OpIncrementQ    Opcode = 0x15
	OpDecrementQ    Opcode = 0x16
	OpQuitQ         Opcode = 0x17
	OpFlushQ        Opcode = 0x18
	OpAppendQ       Opcode = 0x19
	OpPrependQ      Opcode = 0x1a
	OpVerbosity     Opcode = 0x1b
	OpTouch         Opcode = 0x1c
	OpGat           Opcode = 0x1d
	OpGatQ          Opcode = 0x1e
	OpSASLListMechs Opcode = 0x20
	OpSASLAuth      Opcode = 0x21
	OpSASLStep      Opcode = 0x22
	OpGatK          Opcode = 0x23
	OpGatKQ         Opcode = 0x24
	OpBucket        Opcode = 0x2a // membase: select bucket, key = name
	OpGetL          Opcode = 0x94 // membase: get and lock
	OpUnlock        Opcode = 0x95 // membase: unlock
)

// quietOf returns the quiet twin of a loud command; ok is false when it has
// none.
func quietOf(op Opcode) (q Opcode, ok bool) {
	switch op {
	case OpGet:
		return OpGetQ, true
	case OpGetK:
		return OpGetKQ, true
	case OpSet:
		return OpSetQ, true
	case OpAdd:
		return OpAddQ, true
	case OpReplace:
		return OpReplaceQ, true
	case OpDelete:
		return OpDeleteQ, true
	case OpIncrement:
		return OpIncrementQ, true
	case OpDecrement:
		return OpDecrementQ, true
	case OpQuit:
		return OpQuitQ, true
	case OpFlush:
		return OpFlushQ, true
	case OpAppend:
		return OpAppendQ, true
	case OpPrepend:
		return OpPrependQ, true
	case OpGat:
		return OpGatQ, true
	case OpGatK:
		return OpGatKQ, true
	}
	return 0, false
}

// loudOf returns the loud twin of a quiet command; ok is false when op is
// not quiet.
func loudOf(op Opcode) (l Opcode, ok bool) {
	switch op {
	case OpGetQ:
		return OpGet, true
	case OpGetKQ:
		return OpGetK, true
	case OpSetQ:
		return OpSet, true
	case OpAddQ:
		return OpAdd, true
	case OpReplaceQ:
		return OpReplace, true
	case OpDeleteQ:
		return OpDelete, true
	case OpIncrementQ:
		return OpIncrement, true
	case OpDecrementQ:
		return OpDecrement, true
	case OpQuitQ:
		return OpQuit, true
	case OpFlushQ:
		return OpFlush, true
	case OpAppendQ:
		return OpAppend, true
	case OpPrependQ:
		return OpPrepend, true
	case OpGatQ:
		return OpGat, true
	case OpGatKQ:
		return OpGatK, true
	}
	return 0, false
}

// IsQuiet reports whether op is the quiet form of a command: silent on
// success (or, for gets, on a miss).
func (op Opcode) IsQuiet() bool {
	_, ok := loudOf(op)
	return ok
}

// Quiet returns the quiet form of op, or op itself when it has none.
func (op Opcode) Quiet() Opcode {
	if q, ok := quietOf(op); ok {
		return q
	}
	return op
}

// Loud returns the non-quiet form of op, or op itself.
func (op Opcode) Loud() Opcode {
	if l, ok := loudOf(op); ok {
		return l
	}
	return op
}

// IsGet reports whether op reads an item: get, getk, gat, gatk and their
// quiet forms. A quiet get is silent on a miss, not on a hit.
func (op Opcode) IsGet() bool {
	switch op.Loud() {
	case OpGet, OpGetK, OpGat, OpGatK:
		return true
	}
	return false
}

// ReturnsKey reports whether a hit's reply carries the key (getk, gatk).
func (op Opcode) ReturnsKey() bool {
	switch op.Loud() {
	case OpGetK, OpGatK:
		return true
	}
	return false
}
