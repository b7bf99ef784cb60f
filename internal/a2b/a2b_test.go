package a2b

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/binproto"
)

// a2bParse parses one text command (without its final "\r\n").
func a2bParse(t testing.TB, cmd string) *ascii.Request {
	t.Helper()
	req := new(ascii.Request)
	r := ascii.NewReader(bufio.NewReader(strings.NewReader(cmd+"\r\n")), 0)
	if err := r.Next(req); err != nil {
		t.Fatalf("parse %q: %v", cmd, err)
	}
	return req
}

func a2bExt4(exp uint32) []byte { return binary.BigEndian.AppendUint32(nil, exp) }

func a2bExt8(flags, exp uint32) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, flags), exp)
}

func a2bExt20(delta, initial uint64, exp uint32) []byte {
	b := binary.BigEndian.AppendUint64(nil, delta)
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(b, initial), exp)
}

const a2bVB = 517 // a vbucket id with both bytes non-zero

// a2bPkt is a hand-built request for a2bVB with opaque 0.
func a2bPkt(op binproto.Opcode, cas uint64, extras []byte, key, value string) []byte {
	return binproto.AppendRequest(nil, op, a2bVB, 0, cas, extras, []byte(key), []byte(value))
}

// a2bFence appends the NOOP that ends a quiet request.
func a2bFence(b []byte) []byte {
	return append(b, binproto.AppendRequest(nil, binproto.OpNoop, a2bVB, 0, 0, nil, nil, nil)...)
}

func TestA2BRequestBytes(t *testing.T) {
	const never, past, all = 0xffffffff, realtimeMaxDelta + 1, ^uint64(0)
	cases := []struct {
		cmd    string
		want   []byte
		fenced bool
	}{
		{"set k 5 100 3\r\nabc", a2bPkt(binproto.OpSet, 0, a2bExt8(5, 100), "k", "abc"), false},
		{"add k 0 0 1\r\nx", a2bPkt(binproto.OpAdd, 0, a2bExt8(0, 0), "k", "x"), false},
		{"replace k 1 2 1\r\nx", a2bPkt(binproto.OpReplace, 0, a2bExt8(1, 2), "k", "x"), false},
		{"append k 9 9 1\r\nx", a2bPkt(binproto.OpAppend, 0, nil, "k", "x"), false},
		{"prepend k 9 9 1\r\nx", a2bPkt(binproto.OpPrepend, 0, nil, "k", "x"), false},
		{"cas k 1 2 1 77\r\nx", a2bPkt(binproto.OpSet, 77, a2bExt8(1, 2), "k", "x"), false},
		{"cas k 0 0 1 0\r\nx", a2bPkt(binproto.OpSet, all, a2bExt8(0, 0), "k", "x"), false},
		{"set k 0 -1 1\r\nx", a2bPkt(binproto.OpSet, 0, a2bExt8(0, past), "k", "x"), false},
		{"set k 0 0 1 noreply\r\nx", a2bFence(a2bPkt(binproto.OpSetQ, 0, a2bExt8(0, 0), "k", "x")), true},
		{"add k 0 0 1 noreply\r\nx", a2bFence(a2bPkt(binproto.OpAddQ, 0, a2bExt8(0, 0), "k", "x")), true},
		{"append k 0 0 1 noreply\r\nx", a2bFence(a2bPkt(binproto.OpAppendQ, 0, nil, "k", "x")), true},
		{"cas k 0 0 1 5 noreply\r\nx", a2bFence(a2bPkt(binproto.OpSetQ, 5, a2bExt8(0, 0), "k", "x")), true},
		{"delete k", a2bPkt(binproto.OpDelete, 0, nil, "k", ""), false},
		{"delete k noreply", a2bFence(a2bPkt(binproto.OpDeleteQ, 0, nil, "k", "")), true},
		{"incr k 5", a2bPkt(binproto.OpIncrement, 0, a2bExt20(5, 0, never), "k", ""), false},
		{"decr k 3 noreply", a2bFence(a2bPkt(binproto.OpDecrementQ, 0, a2bExt20(3, 0, never), "k", "")), true},
		{"touch k 10", a2bPkt(binproto.OpTouch, 0, a2bExt4(10), "k", ""), false},
		{"touch k -1", a2bPkt(binproto.OpTouch, 0, a2bExt4(past), "k", ""), false},
		{"touch k 10 noreply", a2bPkt(binproto.OpTouch, 0, a2bExt4(10), "k", ""), false},
		// mg
		{"mg k v", a2bPkt(binproto.OpGetK, 0, nil, "k", ""), false},
		{"mg k s c f k O1", a2bPkt(binproto.OpGetK, 0, nil, "k", ""), false},
		{"mg k q v", a2bFence(a2bPkt(binproto.OpGetKQ, 0, nil, "k", "")), true},
		{"mg k T30 v", a2bPkt(binproto.OpGatK, 0, a2bExt4(30), "k", ""), false},
		{"mg k T-1 q", a2bFence(a2bPkt(binproto.OpGatKQ, 0, a2bExt4(past), "k", "")), true},
		{"mg Zm9v b k", a2bPkt(binproto.OpGetK, 0, nil, "foo", ""), false},
		{"mg k v F5 P L I", a2bPkt(binproto.OpGetK, 0, nil, "k", ""), false},
		// ms
		{"ms k 2\r\nhi", a2bPkt(binproto.OpSet, 0, a2bExt8(0, 0), "k", "hi"), false},
		{"ms k 2 F5 T60 MS\r\nhi", a2bPkt(binproto.OpSet, 0, a2bExt8(5, 60), "k", "hi"), false},
		{"ms k 2 T-5\r\nhi", a2bPkt(binproto.OpSet, 0, a2bExt8(0, past), "k", "hi"), false},
		{"ms k 2 ME C9\r\nhi", a2bPkt(binproto.OpAdd, 0, a2bExt8(0, 0), "k", "hi"), false},
		{"ms k 2 MR C9\r\nhi", a2bPkt(binproto.OpReplace, 9, a2bExt8(0, 0), "k", "hi"), false},
		{"ms k 2 C0\r\nhi", a2bPkt(binproto.OpSet, all, a2bExt8(0, 0), "k", "hi"), false},
		{"ms k 2 MA C9 F5 T3\r\nhi", a2bPkt(binproto.OpAppend, 9, nil, "k", "hi"), false},
		{"ms k 2 MA C0\r\nhi", a2bPkt(binproto.OpAppend, 0, nil, "k", "hi"), false},
		{"ms k 2 MP q\r\nhi", a2bFence(a2bPkt(binproto.OpPrependQ, 0, nil, "k", "hi")), true},
		{"ms k 2 q c k\r\nhi", a2bFence(a2bPkt(binproto.OpSetQ, 0, a2bExt8(0, 0), "k", "hi")), true},
		{"ms Zm9v 2 b\r\nhi", a2bPkt(binproto.OpSet, 0, a2bExt8(0, 0), "foo", "hi"), false},
		{"ms k 2 v s t N5\r\nhi", a2bPkt(binproto.OpSet, 0, a2bExt8(0, 0), "k", "hi"), false},
		// md
		{"md k", a2bPkt(binproto.OpDelete, 0, nil, "k", ""), false},
		{"md k C7 q", a2bFence(a2bPkt(binproto.OpDeleteQ, 7, nil, "k", "")), true},
		{"md k C0", a2bPkt(binproto.OpDelete, all, nil, "k", ""), false},
		{"md k T30 v", a2bPkt(binproto.OpDelete, 0, nil, "k", ""), false},
		// ma
		{"ma k", a2bPkt(binproto.OpIncrement, 0, a2bExt20(1, 0, never), "k", ""), false},
		{"ma k MD D5", a2bPkt(binproto.OpDecrement, 0, a2bExt20(5, 0, never), "k", ""), false},
		{"ma k M- q", a2bFence(a2bPkt(binproto.OpDecrementQ, 0, a2bExt20(1, 0, never), "k", "")), true},
		{"ma k M+ N60 J7 C3 v", a2bPkt(binproto.OpIncrement, 3, a2bExt20(1, 7, 60), "k", ""), false},
		{"ma k N-1", a2bPkt(binproto.OpIncrement, 0, a2bExt20(1, 0, past), "k", ""), false},
		{"ma k C0 MI", a2bPkt(binproto.OpIncrement, 0, a2bExt20(1, 0, never), "k", ""), false},
		{"ma Y250 b", a2bPkt(binproto.OpIncrement, 0, a2bExt20(1, 0, never), "cnt", ""), false},
	}
	for _, c := range cases {
		prefix := []byte("prefix")
		out, fenced, errLine := Request(prefix, a2bParse(t, c.cmd), a2bVB)
		if errLine != "" {
			t.Errorf("%q: refused with %q", c.cmd, errLine)
			continue
		}
		if !bytes.HasPrefix(out, prefix) || !bytes.Equal(out[len(prefix):], c.want) {
			t.Errorf("%q:\n got  %x\n want prefix+%x", c.cmd, out, c.want)
		}
		if fenced != c.fenced {
			t.Errorf("%q: fenced %v, want %v", c.cmd, fenced, c.fenced)
		}
	}
}

// TestA2BRequestRefused checks that commands binary cannot carry leave dst
// alone and name the reason.
func TestA2BRequestRefused(t *testing.T) {
	needAscii := func(flag string) string {
		return "CLIENT_ERROR meta flag " + flag + " needs -Z downstream_protocol=ascii\r\n"
	}
	cases := []struct{ cmd, want string }{
		{"mg k h", needAscii("h")},
		{"mg k v l", needAscii("l")},
		{"mg k t", needAscii("t")},
		{"mg k u", needAscii("u")},
		{"mg k N30", needAscii("N")},
		{"mg k R30", needAscii("R")},
		{"ms k 1 I C5\r\nx", needAscii("I")},
		{"md k I T30", needAscii("I")},
		{"ma k t", needAscii("t")},
		{"ma k T30", needAscii("T")},
		{"ma k N0 q", errQuietVivify},
		{"get k", errA2BParse},
		{"gets a b", errA2BParse},
		{"mn", errA2BParse},
		{"stats", errA2BParse},
	}
	for _, c := range cases {
		dst := []byte("keep")
		out, fenced, errLine := Request(dst, a2bParse(t, c.cmd), 0)
		if errLine != c.want || string(out) != "keep" || fenced {
			t.Errorf("%q: got (%q, %v, %q), want (\"keep\", false, %q)", c.cmd, out, fenced, errLine, c.want)
		}
	}
}

// a2bResp builds a response packet; a non-OK status without value gets
// memcached's error message as its body.
func a2bResp(op binproto.Opcode, st binproto.Status, cas uint64, extras []byte, key, value string) []byte {
	if st != binproto.StatusOK && value == "" {
		value = st.Message()
	}
	return binproto.AppendResponse(nil, op, st, 0, cas, extras, []byte(key), []byte(value))
}

func a2bNoop() []byte { return a2bResp(binproto.OpNoop, binproto.StatusOK, 0, nil, "", "") }

func a2bCat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestA2BReplyText(t *testing.T) {
	const (
		ok, enoent, eexists = binproto.StatusOK, binproto.StatusKeyNotFound, binproto.StatusKeyExists
		e2big, enomem       = binproto.StatusTooBig, binproto.StatusNoMemory
	)
	set := func(st binproto.Status) []byte { return a2bResp(binproto.OpSet, st, 0, nil, "", "") }
	num := func(v uint64) string { return string(binary.BigEndian.AppendUint64(nil, v)) }
	hit := a2bResp(binproto.OpGetK, ok, 9, a2bExt4(5), "k", "hi")
	cases := []struct {
		cmd  string
		resp []byte
		want string
	}{
		{"set k 0 0 1\r\nx", set(ok), "STORED\r\n"},
		{"set k 0 0 1\r\nx", set(binproto.StatusNotStored), "NOT_STORED\r\n"},
		{"set k 0 0 1\r\nx", set(eexists), "EXISTS\r\n"},
		{"set k 0 0 1\r\nx", set(e2big), "SERVER_ERROR object too large for cache\r\n"},
		{"set k 0 0 1\r\nx", set(enomem), "SERVER_ERROR out of memory storing object\r\n"},
		{"set k 0 0 1\r\nx", set(binproto.StatusInvalid), "SERVER_ERROR a2b einval\r\n"},
		{"set k 0 0 1\r\nx", set(binproto.StatusNotMyVBucket), "SERVER_ERROR a2b not_my_vbucket\r\n"},
		{"add k 0 0 1\r\nx", set(eexists), "NOT_STORED\r\n"},
		{"replace k 0 0 1\r\nx", set(enoent), "NOT_STORED\r\n"},
		{"append k 0 0 1\r\nx", set(binproto.StatusNotStored), "NOT_STORED\r\n"},
		{"prepend k 0 0 1\r\nx", set(enoent), "NOT_STORED\r\n"},
		{"cas k 0 0 1 5\r\nx", set(eexists), "EXISTS\r\n"},
		{"cas k 0 0 1 5\r\nx", set(enoent), "NOT_FOUND\r\n"},
		{"cas k 0 0 1 5\r\nx", set(ok), "STORED\r\n"},
		{"set k 0 0 1 noreply\r\nx", a2bNoop(), ""},
		{"add k 0 0 1 noreply\r\nx", a2bCat(set(eexists), a2bNoop()), ""},
		{"delete k", set(ok), "DELETED\r\n"},
		{"delete k", set(enoent), "NOT_FOUND\r\n"},
		{"delete k", set(binproto.StatusTempFailure), "SERVER_ERROR temporary failure\r\n"},
		{"delete k noreply", a2bCat(set(enoent), a2bNoop()), ""},
		{"incr k 1", a2bResp(binproto.OpIncrement, ok, 3, nil, "", num(42)), "42\r\n"},
		{"decr k 1", a2bResp(binproto.OpDecrement, ok, 3, nil, "", num(1<<64-1)), "18446744073709551615\r\n"},
		{"incr k 1", set(enoent), "NOT_FOUND\r\n"},
		{"incr k 1", set(binproto.StatusDeltaBadValue), "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"},
		{"incr k 1", set(enomem), "SERVER_ERROR out of memory\r\n"},
		{"incr k 1", set(binproto.StatusBusy), "SERVER_ERROR a2b ebusy\r\n"},
		{"incr k 1", a2bResp(binproto.OpIncrement, ok, 3, nil, "", "short"), "SERVER_ERROR a2b error\r\n"},
		{"touch k 1", set(ok), "TOUCHED\r\n"},
		{"touch k 1", set(enoent), "NOT_FOUND\r\n"},
		{"touch k 1 noreply", set(ok), ""},
		// mg
		{"mg k s v c f k O1", hit, "VA 2 s2 c9 f5 kk O1\r\nhi\r\n"},
		{"mg k O1 f c s", hit, "HD O1 f5 c9 s2\r\n"},
		{"mg k", hit, "HD\r\n"},
		{"mg k q k v", a2bCat(a2bResp(binproto.OpGetKQ, ok, 9, a2bExt4(5), "k", "hi"), a2bNoop()), "VA 2 kk\r\nhi\r\n"},
		{"mg k q k", a2bNoop(), ""},
		{"mg k k O1 v s", set(enoent), "EN kk O1\r\n"},
		{"mg AP8= b k v", a2bResp(binproto.OpGetK, ok, 9, a2bExt4(0), "\x00\xff", "x"), "VA 1 kAP8= b\r\nx\r\n"},
		{"mg k v", set(binproto.StatusInternal), "SERVER_ERROR a2b einternal\r\n"},
		// ms
		{"ms k 1 c k O2\r\nx", a2bResp(binproto.OpSet, ok, 12, nil, "", ""), "HD c12 kk O2\r\n"},
		{"ms k 1 ME\r\nx", set(eexists), "NS\r\n"},
		{"ms k 1 C5\r\nx", set(eexists), "EX\r\n"},
		{"ms k 1 MA C5\r\nx", set(eexists), "EX\r\n"},
		{"ms k 1 MR c\r\nx", set(enoent), "NS c0\r\n"},
		{"ms k 1 MR C5\r\nx", set(enoent), "NF\r\n"},
		{"ms k 1 C5 k\r\nx", set(enoent), "NF kk\r\n"},
		{"ms k 1 MA\r\nx", set(binproto.StatusNotStored), "NS\r\n"},
		{"ms k 1 q\r\nx", a2bNoop(), ""},
		{"ms k 1 MR q O4\r\nx", a2bCat(set(enoent), a2bNoop()), "NS O4\r\n"},
		{"ms k 1\r\nx", set(e2big), "SERVER_ERROR object too large for cache\r\n"},
		{"ms k 1\r\nx", set(enomem), "SERVER_ERROR out of memory storing object\r\n"},
		// md
		{"md k", set(ok), "HD\r\n"},
		{"md k q", a2bNoop(), ""},
		{"md k q k", a2bCat(set(enoent), a2bNoop()), "NF kk\r\n"},
		{"md k C5 O1", set(eexists), "EX O1\r\n"},
		{"md k", set(binproto.StatusNotMyVBucket), "SERVER_ERROR a2b not_my_vbucket\r\n"},
		// ma
		{"ma k v c k O1", a2bResp(binproto.OpIncrement, ok, 3, nil, "", num(7)), "VA 1 c3 kk O1\r\n7\r\n"},
		{"ma k", a2bResp(binproto.OpIncrement, ok, 3, nil, "", num(7)), "HD\r\n"},
		{"ma k q v", a2bNoop(), ""},
		{"ma k k", set(enoent), "NF kk\r\n"},
		{"ma k C1 O1 c", set(eexists), "EX O1\r\n"},
		{"ma k", set(binproto.StatusDeltaBadValue), "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"},
		{"ma k", set(enomem), "SERVER_ERROR out of memory\r\n"},
		// malformed input
		{"set k 0 0 1\r\nx", nil, "SERVER_ERROR a2b error\r\n"},
		{"mg k v", hit[:len(hit)-1], "SERVER_ERROR a2b error\r\n"},
	}
	for _, c := range cases {
		got := Reply([]byte("pre:"), a2bParse(t, c.cmd), c.resp)
		if string(got) != "pre:"+c.want {
			t.Errorf("%q with %x:\n got  %q\n want %q", c.cmd, c.resp, got, "pre:"+c.want)
		}
	}
}

// TestA2BStatusText pins moxi's a2b_out_error strings.
func TestA2BStatusText(t *testing.T) {
	want := map[binproto.Status]string{
		binproto.StatusNotStored:      "NOT_STORED",
		binproto.StatusTooBig:         "SERVER_ERROR a2b e2big",
		binproto.StatusInvalid:        "SERVER_ERROR a2b einval",
		binproto.StatusDeltaBadValue:  "SERVER_ERROR a2b delta_badval",
		binproto.StatusNotMyVBucket:   "SERVER_ERROR a2b not_my_vbucket",
		binproto.StatusAuthError:      "SERVER_ERROR a2b auth_error",
		binproto.StatusAuthContinue:   "SERVER_ERROR a2b auth_continue",
		binproto.StatusUnknownCommand: "SERVER_ERROR a2b unknown",
		binproto.StatusNoMemory:       "SERVER_ERROR a2b out of memory",
		binproto.StatusNotSupported:   "SERVER_ERROR a2b not supported",
		binproto.StatusInternal:       "SERVER_ERROR a2b einternal",
		binproto.StatusBusy:           "SERVER_ERROR a2b ebusy",
		binproto.StatusTempFailure:    "SERVER_ERROR temporary failure",
		0x0099:                        "SERVER_ERROR a2b error",
	}
	for st, w := range want {
		if got := a2bStatusText(st); got != w+"\r\n" {
			t.Errorf("status 0x%04x: %q, want %q", uint16(st), got, w+"\r\n")
		}
	}
}

// TestA2BNoAllocs holds the request path to zero allocations.
func TestA2BNoAllocs(t *testing.T) {
	set, mg, ma := a2bBenchCommands(t)
	setResp := a2bResp(binproto.OpSet, binproto.StatusOK, 5, nil, "", "")
	mgResp := a2bResp(binproto.OpGetK, binproto.StatusOK, 5, a2bExt4(3), "bench:key", strings.Repeat("v", 100))
	maResp := a2bResp(binproto.OpIncrement, binproto.StatusOK, 6, nil, "", "\x00\x00\x00\x00\x00\x00\x01\x00")
	out, reply := make([]byte, 0, 1024), make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		for _, c := range []struct {
			cmd  *ascii.Request
			resp []byte
		}{{set, setResp}, {mg, mgResp}, {ma, maResp}} {
			out, _, _ = Request(out[:0], c.cmd, 3)
			reply = Reply(reply[:0], c.cmd, c.resp)
		}
	})
	if allocs != 0 {
		t.Errorf("a2b request+reply: %v allocs/op, want 0", allocs)
	}
}

func a2bBenchCommands(t testing.TB) (set, mg, ma *ascii.Request) {
	value := strings.Repeat("v", 100)
	return a2bParse(t, "set bench:key 3 0 100\r\n"+value),
		a2bParse(t, "mg bench:key v f c k s O123"),
		a2bParse(t, "ma Y250 b v c k")
}

// BenchmarkA2BSetGet translates a 100-byte set and an mg and their replies.
func BenchmarkA2BSetGet(b *testing.B) {
	set, mg, _ := a2bBenchCommands(b)
	setResp := a2bResp(binproto.OpSet, binproto.StatusOK, 5, nil, "", "")
	mgResp := a2bResp(binproto.OpGetK, binproto.StatusOK, 5, a2bExt4(3), "bench:key", strings.Repeat("v", 100))
	out, reply := make([]byte, 0, 1024), make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		out, _, _ = Request(out[:0], set, 0)
		reply = Reply(reply[:0], set, setResp)
		out, _, _ = Request(out[:0], mg, 0)
		reply = Reply(reply[:0], mg, mgResp)
	}
	if string(reply[:6]) != "VA 100" {
		b.Fatalf("mg reply %q", reply)
	}
}
