package memserver

import (
	"encoding/binary"
	"strings"

	"github.com/moxifleet/moxi/internal/binproto"
)

// The binary transcripts below are sent to memcached 1.6.18 and to
// memserver by TestBinaryDifferential. Each chunk is one write.

func binStorageChunks(b *pktBuilder) []binChunk {
	return []binChunk{
		{name: "set and get forms", pkts: [][]byte{
			b.set(binproto.OpSet, "a", 5, 0, "hello"),
			b.key(binproto.OpGet, "a"), b.key(binproto.OpGetK, "a"),
			b.key(binproto.OpGetQ, "a"), b.key(binproto.OpGetKQ, "a")}},
		{name: "misses", pkts: [][]byte{
			b.key(binproto.OpGet, "zz"), b.key(binproto.OpGetK, "zz"),
			b.key(binproto.OpGetQ, "zz"), b.key(binproto.OpGetKQ, "zz")}},
		{name: "quiet multi-get", pkts: [][]byte{
			b.key(binproto.OpGetKQ, "a"), b.key(binproto.OpGetKQ, "zz"), b.key(binproto.OpGetKQ, "yy"),
			b.key(binproto.OpGetQ, "a"), b.bare(binproto.OpNoop), b.key(binproto.OpGet, "a")}},
		{name: "add and replace", pkts: [][]byte{
			b.set(binproto.OpAdd, "a", 0, 0, "x"), b.set(binproto.OpAdd, "b", 3, 0, "b"),
			b.set(binproto.OpAddQ, "b", 0, 0, "x"), b.set(binproto.OpAddQ, "c", 0, 0, "c"),
			b.set(binproto.OpReplace, "zz", 0, 0, "x"), b.set(binproto.OpReplaceQ, "zz", 0, 0, "x"),
			b.set(binproto.OpReplace, "b", 4, 0, "bb"), b.set(binproto.OpReplaceQ, "c", 0, 0, "cc"),
			b.key(binproto.OpGet, "b"), b.key(binproto.OpGet, "c")}},
		{name: "quiet sets", pkts: [][]byte{
			b.set(binproto.OpSetQ, "q", 0, 0, "1"), b.set(binproto.OpSetQ, "q", 9, 0, "2"),
			b.key(binproto.OpGet, "q")}},
		{name: "append and prepend", pkts: [][]byte{
			b.req(binproto.OpAppend, 0, nil, "a", []byte("!")), b.req(binproto.OpPrepend, 0, nil, "a", []byte("<")),
			b.key(binproto.OpGet, "a"),
			b.req(binproto.OpAppend, 0, nil, "zz", []byte("x")), b.req(binproto.OpAppendQ, 0, nil, "zz", []byte("x")),
			b.req(binproto.OpPrependQ, 0, nil, "zz", []byte("x")), b.req(binproto.OpAppendQ, 0, nil, "a", []byte(">")),
			b.key(binproto.OpGet, "a")}},
		{name: "append and prepend past the item size limit", pkts: [][]byte{
			b.set(binproto.OpSet, "big", 0, 0, strings.Repeat("x", 1_000_000)),
			b.req(binproto.OpAppend, 0, nil, "big", []byte(strings.Repeat("y", 48515))),
			b.req(binproto.OpPrependQ, 0, nil, "big", []byte(strings.Repeat("y", 48515))),
			b.req(binproto.OpAppend, 0, nil, "big", []byte(strings.Repeat("y", 48514))),
			b.req(binproto.OpAppend, 0, nil, "big", []byte("z")),
			b.key(binproto.OpDelete, "big")}},
		{name: "cas: fetch", pkts: [][]byte{b.key(binproto.OpGet, "a")}},
		{name: "cas: swap", pkts: [][]byte{
			b.casSet(binproto.OpSet, "a", casFromLast, "new"), b.casSet(binproto.OpSet, "a", casFromLast, "newer"),
			b.casSet(binproto.OpSet, "a", 999999, "x"), b.casSet(binproto.OpSetQ, "a", 999999, "x"),
			b.casSet(binproto.OpSet, "zz", 5, "x"), b.casSet(binproto.OpAdd, "a", 999999, "x"),
			b.casSet(binproto.OpAdd, "zz", 1, "x"), b.casSet(binproto.OpReplace, "zz", 1, "x"),
			b.key(binproto.OpGet, "a")}},
		{name: "cas: append", pkts: [][]byte{
			b.req(binproto.OpAppend, casFromLast, nil, "a", []byte("+")),
			b.req(binproto.OpAppend, 999999, nil, "a", []byte("-")),
			b.req(binproto.OpPrepend, 1, nil, "zz", []byte("-")), b.key(binproto.OpGet, "a")}},
		{name: "binary keys", pkts: [][]byte{
			b.set(binproto.OpSet, "a b\r\nc\x00", 1, 0, "v"), b.key(binproto.OpGetK, "a b\r\nc\x00")}},
		{name: "empty value", pkts: [][]byte{
			b.set(binproto.OpSet, "e", 0, 0, ""), b.key(binproto.OpGet, "e")}},
	}
}

func binDeleteTouchChunks(b *pktBuilder) []binChunk {
	return []binChunk{
		{name: "delete", pkts: [][]byte{
			b.set(binproto.OpSet, "d", 0, 0, "1"), b.req(binproto.OpDelete, 999999, nil, "d", nil),
			b.key(binproto.OpDelete, "d"), b.key(binproto.OpDelete, "d"), b.key(binproto.OpDeleteQ, "d"),
			b.set(binproto.OpSet, "d", 0, 0, "1"), b.key(binproto.OpDeleteQ, "d"), b.key(binproto.OpGet, "d"),
			b.set(binproto.OpSet, "d", 0, 0, "1")}},
		{name: "delete with cas", pkts: [][]byte{
			b.req(binproto.OpDelete, casFromLast, nil, "d", nil), b.key(binproto.OpGet, "d")}},
		{name: "touch and gat", pkts: [][]byte{
			b.set(binproto.OpSet, "t", 3, 0, "tv"), b.touch(binproto.OpTouch, "t", 100),
			b.touch(binproto.OpTouch, "zz", 100), b.touch(binproto.OpGat, "t", 200),
			b.touch(binproto.OpGatK, "t", 0), b.touch(binproto.OpGatQ, "t", 0), b.touch(binproto.OpGatKQ, "t", 0),
			b.touch(binproto.OpGatQ, "zz", 0), b.touch(binproto.OpGatKQ, "zz", 0),
			b.touch(binproto.OpGatK, "zz", 0), b.touch(binproto.OpGat, "zz", 0)}},
		{name: "expiry", pkts: [][]byte{
			b.set(binproto.OpSet, "e", 0, 1000000000, "1"), b.key(binproto.OpGet, "e"),
			b.set(binproto.OpSet, "e", 0, 0xffffffff, "1"), b.key(binproto.OpGet, "e"),
			b.set(binproto.OpSet, "e", 0, 100, "1"), b.key(binproto.OpGet, "e"),
			b.touch(binproto.OpTouch, "e", 1000000000), b.key(binproto.OpGet, "e")}},
		{name: "flush", pkts: [][]byte{
			b.req(binproto.OpFlush, 0, u32(100), "", nil), b.key(binproto.OpGet, "b"),
			b.bare(binproto.OpFlushQ), b.key(binproto.OpGet, "b"),
			b.req(binproto.OpFlush, 0, u32(0), "", nil), b.bare(binproto.OpFlush)}},
		{name: "noop and version", pkts: [][]byte{b.bare(binproto.OpNoop), b.bare(binproto.OpVersion)}},
	}
}

func binCounterChunks(b *pktBuilder) []binChunk {
	const noCreate = 0xffffffff
	return []binChunk{
		{name: "incr and decr", pkts: [][]byte{
			b.set(binproto.OpSet, "n", 0, 0, "10"), b.arith(binproto.OpIncrement, "n", 5, 0, 0),
			b.arith(binproto.OpDecrement, "n", 100, 0, 0), b.arith(binproto.OpIncrement, "nc", 1, 42, 0),
			b.key(binproto.OpGet, "nc"), b.arith(binproto.OpIncrement, "nc", 1, 42, 0),
			b.arith(binproto.OpIncrement, "none", 1, 0, noCreate), b.arith(binproto.OpDecrement, "none", 1, 0, noCreate),
			b.arith(binproto.OpIncrementQ, "n", 1, 0, 0), b.arith(binproto.OpDecrementQ, "n", 1, 0, 0),
			b.arith(binproto.OpIncrementQ, "none", 1, 0, noCreate), b.key(binproto.OpGet, "n")}},
		{name: "incr with cas", pkts: [][]byte{
			b.req(binproto.OpIncrement, 999999, arithExtras(1, 0, 0), "n", nil),
			b.req(binproto.OpIncrement, casFromLast, arithExtras(1, 0, 0), "n", nil)}},
		{name: "incr edges", pkts: [][]byte{
			b.set(binproto.OpSet, "n", 0, 0, "18446744073709551615"), b.arith(binproto.OpIncrement, "n", 1, 0, 0),
			b.key(binproto.OpGet, "n"), b.set(binproto.OpSet, "n", 0, 0, "100"),
			b.arith(binproto.OpDecrement, "n", 1, 0, 0), b.key(binproto.OpGet, "n"),
			b.arith(binproto.OpIncrement, "n", 1, 0, 0), b.key(binproto.OpGet, "n")}},
		{name: "incr non-numeric", pkts: [][]byte{
			b.set(binproto.OpSet, "s", 0, 0, "abc"), b.arith(binproto.OpIncrement, "s", 1, 0, 0),
			b.arith(binproto.OpIncrementQ, "s", 1, 0, 0), b.set(binproto.OpSet, "s", 0, 0, ""),
			b.arith(binproto.OpDecrement, "s", 1, 0, 0), b.set(binproto.OpSet, "s", 0, 0, "-1"),
			b.arith(binproto.OpIncrement, "s", 1, 0, 0)}},
		{name: "incr creates expired", pkts: [][]byte{
			b.arith(binproto.OpIncrement, "ne", 1, 7, 1000000000), b.key(binproto.OpGet, "ne"),
			b.arith(binproto.OpDecrement, "nd", 1, 7, 100), b.key(binproto.OpGet, "nd")}},
	}
}

func arithExtras(delta, initial uint64, exp uint32) []byte {
	e := binary.BigEndian.AppendUint64(nil, delta)
	e = binary.BigEndian.AppendUint64(e, initial)
	return binary.BigEndian.AppendUint32(e, exp)
}

func binStatChunks(b *pktBuilder) []binChunk {
	return []binChunk{
		{name: "stats", stats: true, pkts: [][]byte{b.bare(binproto.OpStat)}},
		{name: "stats settings", stats: true, pkts: [][]byte{b.key(binproto.OpStat, "settings")}},
		{name: "stats items slabs", stats: true, pkts: [][]byte{b.key(binproto.OpStat, "items"), b.key(binproto.OpStat, "slabs")}},
		{name: "stats groups", pkts: [][]byte{
			b.key(binproto.OpStat, "reset"), b.key(binproto.OpStat, "resetx"), b.key(binproto.OpStat, "sizes"),
			b.key(binproto.OpStat, "detail dump"), b.key(binproto.OpStat, "detail on"),
			b.key(binproto.OpStat, "detail off"), b.key(binproto.OpStat, "detail x"), b.key(binproto.OpStat, "detail"),
			b.key(binproto.OpStat, "conns"), b.key(binproto.OpStat, "bogus"), b.key(binproto.OpStat, "sizes_disable")}},
	}
}

// binRefusalChunks are requests memcached refuses but keeps reading
// after, including the ones where it swallows part of the next request:
// a pad is sent for it to swallow.
func binRefusalChunks(b *pktBuilder) []binChunk {
	pad := func(n int) []byte { return make([]byte, n) }
	return []binChunk{
		{name: "sasl", pkts: [][]byte{
			b.bare(binproto.OpSASLListMechs), b.req(binproto.OpSASLAuth, 0, nil, "PLAIN", []byte("\x00u\x00p")),
			b.key(binproto.OpSASLStep, "PLAIN")}},
		{name: "verbosity", pkts: [][]byte{b.req(binproto.OpVerbosity, 0, u32(1), "", nil), pad(4)}},
		{name: "verbosity without extras", pkts: [][]byte{b.bare(binproto.OpVerbosity)}},
		{name: "verbosity with a key", pkts: [][]byte{b.key(binproto.OpVerbosity, "x"), pad(1)}},
		{name: "values memcached leaves unread", pkts: [][]byte{
			b.set(binproto.OpSet, "t", 0, 0, "tv"), b.req(binproto.OpTouch, 0, u32(0), "t", b.key(binproto.OpGetK, "t")),
			b.req(binproto.OpGat, 0, u32(0), "t", b.bare(binproto.OpNoop)),
			b.req(binproto.OpStat, 0, nil, "sizes", b.bare(binproto.OpVersion))}},
		{name: "unknown opcodes", pkts: [][]byte{
			b.bare(0x40), b.req(0x41, 0, nil, "", []byte("abcd")), b.key(0x42, "abc"), pad(3),
			b.key(binproto.OpGetL, "a"), pad(1), b.bare(0xff)}},
	}
}

// binLargeChunks probe the item size limit: memcached counts the item
// header, key and flags, so the largest value under -I 1m with key "big"
// is 1048514 bytes (1048510 with flags).
func binLargeChunks(b *pktBuilder) []binChunk {
	val := func(n int) string { return strings.Repeat("v", n) }
	return []binChunk{
		{name: "largest value", pkts: [][]byte{
			b.set(binproto.OpSet, "big", 0, 0, val(1048514)), b.key(binproto.OpGet, "big"),
			b.set(binproto.OpSet, "big", 1, 0, val(1048510)), b.key(binproto.OpGet, "big")}},
		{name: "one byte over drops the old value", pkts: [][]byte{
			b.set(binproto.OpSet, "big", 1, 0, val(1048511)), b.key(binproto.OpGet, "big")}},
		{name: "1 MiB", pkts: [][]byte{
			b.set(binproto.OpSet, "big", 0, 0, "x"), b.set(binproto.OpSetQ, "big", 0, 0, val(1<<20)),
			b.key(binproto.OpGet, "big")}},
		{name: "over 1 MiB", pkts: [][]byte{
			b.set(binproto.OpSet, "big", 0, 0, "x"), b.set(binproto.OpSet, "big", 0, 0, val(1<<20+1)),
			b.key(binproto.OpGet, "big"), b.set(binproto.OpSet, "big2", 0, 0, "x"),
			b.set(binproto.OpAdd, "big2", 0, 0, val(2000000)), b.key(binproto.OpGet, "big2"),
			b.req(binproto.OpAppend, 0, nil, "big2", []byte(val(1<<20))), b.key(binproto.OpGet, "big2")}},
	}
}
