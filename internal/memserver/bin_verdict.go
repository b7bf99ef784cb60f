package memserver

import "github.com/moxifleet/moxi/internal/binproto"

// refuse answers a request binproto refused and reports whether to keep
// the connection. binproto has decided as memcached 1.6.18 does (status,
// close or not, what to swallow); what is left is the reply, its timing,
// and the one side effect a refusal has on the store.
func (bc *binConn) refuse(perr *binproto.Error) bool {
	h := &bc.pkt.Header
	if perr.NoReply {
		bc.drop = true // memcached closes without writing its queue
		return false
	}
	bc.fail(h, perr.Status, perr.Status.Message(), !perr.Close && swallowLen(h, perr.Status) > 0)
	if perr.Status == binproto.StatusTooBig && len(bc.setKey) > 0 {
		bc.s.store.drop(bc.setKey)
	}
	return !perr.Close
}

// swallowLen is how many bytes memcached skips after refusing a request
// with st and reading its extras and key: the value of a store too large,
// the whole body of an unknown command (eating into the next request), or
// the body less the key for a SASL command. While it skips it does not
// write its queue, as it does after other errors. memcached holds the
// count in an int, so from 2 GiB on it swallows nothing.
func swallowLen(h *binproto.Header, st binproto.Status) int {
	n := int64(h.BodyLen)
	switch {
	case st == binproto.StatusTooBig:
		n -= int64(h.ExtLen) + int64(h.KeyLen)
	case st != binproto.StatusUnknownCommand:
		return 0
	case isSASL(h.Opcode):
		n -= int64(h.KeyLen)
	}
	if n >= 1<<31 {
		return 0
	}
	return int(n)
}

func isSASL(op binproto.Opcode) bool {
	return op == binproto.OpSASLListMechs || op == binproto.OpSASLAuth || op == binproto.OpSASLStep
}
