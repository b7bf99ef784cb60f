package e2e

import (
	"encoding/binary"
	"strconv"
	"testing"

	"github.com/moxifleet/moxi/internal/binproto"
)

// binChange is a binary command (of TestFrontCacheDropsEveryChange) that
// must drop a key a text get cached.
type binChange struct {
	name    string
	initial string // the value cached; "A" when empty
	behind  string // changeBehind, deleteBehind or nothing
	op      binproto.Opcode
	extras  []byte
	value   string
	withCas bool   // the request carries the server's cas
	after   string // the value at the server afterwards
	gone    bool   // or the key is not there afterwards
	all     bool   // a flush: every key goes
}

var binaryChanges = []binChange{
	{name: "SET", op: binproto.OpSet, extras: storeExtras(0, 0), value: "B", after: "B"},
	{name: "SETQ", op: binproto.OpSetQ, extras: storeExtras(0, 0), value: "B", after: "B"},
	{name: "SET with cas", op: binproto.OpSet, extras: storeExtras(0, 0), value: "B", withCas: true, after: "B"},
	{name: "ADD", behind: deleteBehind, op: binproto.OpAdd, extras: storeExtras(0, 0), value: "B", after: "B"},
	{name: "ADDQ", behind: deleteBehind, op: binproto.OpAddQ, extras: storeExtras(0, 0), value: "B", after: "B"},
	{name: "REPLACE", op: binproto.OpReplace, extras: storeExtras(0, 0), value: "B", after: "B"},
	{name: "REPLACEQ", op: binproto.OpReplaceQ, extras: storeExtras(0, 0), value: "B", after: "B"},
	{name: "APPEND", op: binproto.OpAppend, value: "B", after: "AB"},
	{name: "APPENDQ", op: binproto.OpAppendQ, value: "B", after: "AB"},
	{name: "PREPEND", op: binproto.OpPrepend, value: "B", after: "BA"},
	{name: "PREPENDQ", op: binproto.OpPrependQ, value: "B", after: "BA"},
	{name: "DELETE", op: binproto.OpDelete, gone: true},
	{name: "DELETEQ", op: binproto.OpDeleteQ, gone: true},
	{name: "INCREMENT", initial: "20", op: binproto.OpIncrement, extras: arithExtras(5), after: "25"},
	{name: "INCREMENTQ", initial: "20", op: binproto.OpIncrementQ, extras: arithExtras(5), after: "25"},
	{name: "DECREMENT", initial: "20", op: binproto.OpDecrement, extras: arithExtras(3), after: "17"},
	{name: "DECREMENTQ", initial: "20", op: binproto.OpDecrementQ, extras: arithExtras(3), after: "17"},
	{name: "TOUCH", behind: changeBehind, op: binproto.OpTouch, extras: expExtras(3600), after: "S"},
	{name: "GAT", behind: changeBehind, op: binproto.OpGat, extras: expExtras(3600), after: "S"},
	{name: "GATQ", behind: changeBehind, op: binproto.OpGatQ, extras: expExtras(3600), after: "S"},
	{name: "GATK", behind: changeBehind, op: binproto.OpGatK, extras: expExtras(3600), after: "S"},
	{name: "GATKQ", behind: changeBehind, op: binproto.OpGatKQ, extras: expExtras(3600), after: "S"},
	{name: "FLUSH", op: binproto.OpFlush, gone: true, all: true},
	{name: "FLUSHQ", op: binproto.OpFlushQ, gone: true, all: true},
}

// runBinaryChanges sends each case's command from a binary client and
// reads the key back with the fixture's text client.
func runBinaryChanges(t *testing.T, f *staleFixture, cases []binChange) {
	groupBC := dialBinary(t, f.proxy.Addr)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, bc := f.failing(t), *groupBC
			bc.t = t
			key := caseKey(c.name)
			f.checkDropped(t, key, c.initial, c.behind, valueReply(key, c.after, c.gone), c.all, func(cas string) {
				var casN uint64
				if c.withCas {
					var err error
					if casN, err = strconv.ParseUint(cas, 10, 64); err != nil {
						t.Fatalf("the server's cas of %s: %q", key, cas)
					}
				}
				bkey := key
				if c.all {
					bkey = "" // FLUSH has no key
				}
				req := binproto.AppendRequest(nil, c.op, 0, 1, casN, c.extras, []byte(bkey), []byte(c.value))
				if !c.op.IsQuiet() {
					bc.send(req)
				} else {
					bc.send(req, binReq(binproto.OpNoop, "", "", nil, 2))
				}
				// A quiet command is silent on success, except a quiet
				// get on a hit; the NOOP's answer says all are done.
				if !c.op.IsQuiet() || c.op.IsGet() {
					if p := bc.expect(c.op, binproto.StatusOK, 1); c.op.IsGet() && string(p.Value) != c.after {
						t.Fatalf("%s through the proxy: value %q, want the server's %q", c.name, p.Value, c.after)
					}
				}
				if c.op.IsQuiet() {
					bc.expect(binproto.OpNoop, binproto.StatusOK, 2)
				}
			})
		})
	}
}

// arithExtras are INCREMENT's and DECREMENT's: delta, initial 0 and
// expiration 0 (the key exists, so neither is used).
func arithExtras(delta uint64) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, delta), 0), 0)
}

// expExtras are TOUCH's and GAT's: the new expiration.
func expExtras(exp uint32) []byte { return binary.BigEndian.AppendUint32(nil, exp) }
