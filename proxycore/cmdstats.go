package proxycore

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"

	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/binproto"
)

// Commands by command and outcome, for Prometheus'
// moxi_commands_total{command,status} (memcached_exporter's style). A
// fixed table of atomics per bucket: counting a request costs a switch
// and one atomic add per outcome, no lock and no allocation.
//
// Outcomes: a get-family key is a hit or a miss (each key of a multi-get
// counts); any other command the server answered is ok, whatever it
// answered (NOT_STORED is an answer); error means the proxy could not
// get an answer: the exchange failed (connect, close, timeout) or the
// proxy refused the request (no server, busy, wrong protocol).

// commandKind indexes commandNames: text commands share ascii.Op's
// numbering, binary-only ones follow.
type commandKind uint8

const (
	cmdNoop commandKind = commandKind(ascii.OpMetaDebug) + 1 + iota // binary NOOP
	cmdSASL                                                         // binary SASL list/auth/step
	numCommandKinds
)

func commandNames() [numCommandKinds]string {
	return [numCommandKinds]string{
		ascii.OpUnknown: "other", ascii.OpGet: "get", ascii.OpGets: "gets", ascii.OpGat: "gat",
		ascii.OpGats: "gats", ascii.OpSet: "set", ascii.OpAdd: "add", ascii.OpReplace: "replace",
		ascii.OpAppend: "append", ascii.OpPrepend: "prepend", ascii.OpCas: "cas", ascii.OpDelete: "delete",
		ascii.OpIncr: "incr", ascii.OpDecr: "decr", ascii.OpTouch: "touch", ascii.OpFlushAll: "flush_all",
		ascii.OpStats: "stats", ascii.OpVersion: "version", ascii.OpVerbosity: "verbosity", ascii.OpQuit: "quit",
		ascii.OpMetaGet: "mg", ascii.OpMetaSet: "ms", ascii.OpMetaDelete: "md", ascii.OpMetaArith: "ma",
		ascii.OpMetaNoop: "mn", ascii.OpMetaDebug: "me", cmdNoop: "noop", cmdSASL: "sasl",
	}
}

type commandStatus uint8

const (
	statusHit commandStatus = iota
	statusMiss
	statusOK
	statusError
	numCommandStatuses
)

func commandStatusNames() [numCommandStatuses]string {
	return [numCommandStatuses]string{"hit", "miss", "ok", "error"}
}

// commandCounts is one bucket's moxi_commands_total.
type commandCounts struct {
	v [numCommandKinds][numCommandStatuses]atomic.Uint64
}

func (c *commandCounts) add(k commandKind, st commandStatus, n uint64) {
	if n > 0 {
		c.v[k][st].Add(n)
	}
}

// binaryKind is the command a binary opcode counts as.
func binaryKind(op binproto.Opcode) commandKind {
	switch op.Loud() {
	case binproto.OpGet, binproto.OpGetK:
		return commandKind(ascii.OpGet)
	case binproto.OpGat, binproto.OpGatK:
		return commandKind(ascii.OpGat)
	case binproto.OpSet:
		return commandKind(ascii.OpSet)
	case binproto.OpAdd:
		return commandKind(ascii.OpAdd)
	case binproto.OpReplace:
		return commandKind(ascii.OpReplace)
	case binproto.OpAppend:
		return commandKind(ascii.OpAppend)
	case binproto.OpPrepend:
		return commandKind(ascii.OpPrepend)
	case binproto.OpDelete:
		return commandKind(ascii.OpDelete)
	case binproto.OpIncrement:
		return commandKind(ascii.OpIncr)
	case binproto.OpDecrement:
		return commandKind(ascii.OpDecr)
	case binproto.OpTouch:
		return commandKind(ascii.OpTouch)
	case binproto.OpFlush:
		return commandKind(ascii.OpFlushAll)
	case binproto.OpStat:
		return commandKind(ascii.OpStats)
	case binproto.OpVersion:
		return commandKind(ascii.OpVersion)
	case binproto.OpVerbosity:
		return commandKind(ascii.OpVerbosity)
	case binproto.OpQuit:
		return commandKind(ascii.OpQuit)
	case binproto.OpNoop:
		return cmdNoop
	case binproto.OpSASLListMechs, binproto.OpSASLAuth, binproto.OpSASLStep:
		return cmdSASL
	}
	return commandKind(ascii.OpUnknown)
}

func hitOrMiss(hit bool) commandStatus {
	if hit {
		return statusHit
	}
	return statusMiss
}

// failedOps is how many of r's exchanges failed.
func (r *request) failedOps() uint64 {
	var n uint64
	for _, o := range r.ops {
		if o.status != opOK {
			n++
		}
	}
	return n
}

// countCommand counts a finished request in its bucket's
// moxi_commands_total.
func (r *request) countCommand() {
	c := &r.b.cmds
	switch {
	case r.binary && r.quiet > 0:
		r.countGroup(c)
	case r.binary:
		r.countBinaryOne(c)
	default:
		r.countText(c)
	}
}

func (r *request) countText(c *commandCounts) {
	k := commandKind(r.cmd.Op)
	failed := r.failedOps()
	switch {
	case r.cmd.Op.IsRetrieval():
		var hits uint64
		for i := range r.slots {
			if s := &r.slots[i]; s.cached != nil || (s.op != nil && s.op.status == opOK) {
				hits++
			}
		}
		c.add(k, statusHit, hits)
		c.add(k, statusMiss, uint64(len(r.slots))-hits)
		c.add(k, statusError, failed)
	case r.refused || failed > 0:
		c.add(k, statusError, 1)
	case r.cmd.Op == ascii.OpMetaGet:
		c.add(k, hitOrMiss(!bytes.HasPrefix(r.firstReply(), []byte("EN"))), 1)
	default:
		c.add(k, statusOK, 1)
	}
}

func (r *request) countBinaryOne(c *commandCounts) {
	k := binaryKind(r.bin.Opcode)
	reply := r.firstReply()
	switch {
	case r.refused || r.failedOps() > 0:
		c.add(k, statusError, 1)
	case r.bin.Opcode.IsGet() && len(reply) >= binproto.HeaderLen:
		c.add(k, hitOrMiss(binproto.Status(uint16(reply[6])<<8|uint16(reply[7])) == binproto.StatusOK), 1)
	default:
		c.add(k, statusOK, 1)
	}
}

// countGroup counts a quiet group's packets from the responses
// writeGroup placed by packet index (servers' and the front cache's), so
// the replies are not parsed twice: a get is a hit when an OK response
// came back for it (quiet misses are silent), a miss otherwise; every
// other command the servers answered is ok, and a failed server exchange
// counts an error.
func (r *request) countGroup(c *commandCounts) {
	for i := range r.packets {
		op := binproto.Opcode(r.raw[r.packets[i].off+1])
		k := binaryKind(op)
		switch {
		case r.refused:
			c.add(k, statusError, 1)
		case op.IsGet():
			raw := r.placed(i)
			c.add(k, hitOrMiss(len(raw) >= binproto.HeaderLen && binary.BigEndian.Uint16(raw[6:]) == uint16(binproto.StatusOK)), 1)
		default:
			c.add(k, statusOK, 1)
		}
	}
	if !r.refused {
		c.add(commandKind(ascii.OpGet), statusError, r.failedOps())
	}
}

// placed is the response writeGroup placed for packet i; nil when there
// was none (or the reply was never written: a closed client).
func (r *request) placed(i int) []byte {
	if i < len(r.byIndex) {
		return r.byIndex[i]
	}
	return nil
}

// firstReply is the bytes of a one-reply request: what the proxy built,
// or the first exchange's reply as the server sent it.
func (r *request) firstReply() []byte {
	if r.form == formOwn || len(r.ops) == 0 {
		return r.reply
	}
	return r.ops[0].reply
}
