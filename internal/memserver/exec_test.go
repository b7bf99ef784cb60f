package memserver

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/ascii"
)

// Request builders: the executor tests do not depend on the parser.

func toks(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

func rqStore(op ascii.Op, key string, flags uint32, exp int64, data string, noreply bool) *ascii.Request {
	return &ascii.Request{Op: op, Key: []byte(key), Flags: flags, Exptime: exp, Data: []byte(data), NoReply: noreply}
}

func rqCas(key, data string, cas uint64) *ascii.Request {
	return &ascii.Request{Op: ascii.OpCas, Key: []byte(key), Data: []byte(data), Cas: cas}
}

func rqGet(op ascii.Op, exp int64, keys ...string) *ascii.Request {
	r := &ascii.Request{Op: op, Exptime: exp}
	for _, k := range keys {
		r.Keys = append(r.Keys, []byte(k))
	}
	return r
}

func rqKey(op ascii.Op, key string, noreply bool) *ascii.Request {
	return &ascii.Request{Op: op, Key: []byte(key), NoReply: noreply}
}

func rqArith(op ascii.Op, key string, delta uint64, noreply bool) *ascii.Request {
	return &ascii.Request{Op: op, Key: []byte(key), Delta: delta, NoReply: noreply}
}

func rqArgs(op ascii.Op, args string, noreply bool) *ascii.Request {
	return &ascii.Request{Op: op, Args: toks(args), NoReply: noreply}
}

// rqMeta builds a meta request from "cmd key flags..." (ms: data separate).
func rqMeta(op ascii.Op, line, data string) *ascii.Request {
	t := toks(line)
	r := &ascii.Request{Op: op, Line: []byte(line), Tokens: t}
	if len(t) > 1 {
		r.Key = t[1]
		r.MetaFlags = t[2:]
	}
	if op == ascii.OpMetaSet {
		r.MetaFlags = t[3:]
		r.Data = []byte(data)
	}
	for _, f := range r.MetaFlags {
		r.Quiet = r.Quiet || string(f) == "q"
		r.Base64 = r.Base64 || string(f) == "b"
	}
	if r.Base64 {
		r.Key, _ = base64.StdEncoding.AppendDecode(nil, r.Key)
	}
	return r
}

func newTestServer(cfg Config) (*Server, *fakeClock) {
	c := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	cfg.Clock = c.now
	if cfg.Version == "" {
		cfg.Version = "1.6.18"
	}
	return New(cfg), c
}

func run(s *Server, req *ascii.Request) string {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	if req.Op.IsMeta() {
		// Meta flags are parsed (and refused) by the protocol reader
		// only, so meta steps go through it as on a connection.
		wire := string(req.Line) + "\r\n"
		if req.Op == ascii.OpMetaSet {
			wire += string(req.Data) + "\r\n"
		}
		rd := ascii.NewReader(bufio.NewReader(strings.NewReader(wire)), s.cfg.MaxItemSize)
		s.step(rd, new(ascii.Request), w, &connInfo{})
	} else {
		s.execute(w, req)
	}
	_ = w.Flush()
	return buf.String()
}

type step struct {
	req  *ascii.Request
	want string
}

func runSteps(t *testing.T, s *Server, steps []step) {
	t.Helper()
	for i, st := range steps {
		if got := run(s, st.req); got != st.want {
			t.Errorf("step %d (%s): got %q, want %q", i, st.req.Line, got, st.want)
		}
	}
}

func TestExecClassic(t *testing.T) {
	s, _ := newTestServer(Config{})
	runSteps(t, s, []step{
		{rqStore(ascii.OpSet, "a", 5, 0, "hello", false), "STORED\r\n"},
		{rqStore(ascii.OpAdd, "a", 0, 0, "x", false), "NOT_STORED\r\n"},
		{rqStore(ascii.OpReplace, "zz", 0, 0, "x", false), "NOT_STORED\r\n"},
		{rqStore(ascii.OpAppend, "a", 9, 0, "!", false), "STORED\r\n"},
		{rqStore(ascii.OpPrepend, "a", 9, 0, "<", false), "STORED\r\n"},
		{rqGet(ascii.OpGet, 0, "a", "zz", "a"), "VALUE a 5 7\r\n<hello!\r\nVALUE a 5 7\r\n<hello!\r\nEND\r\n"},
		{rqGet(ascii.OpGets, 0, "a"), "VALUE a 5 7 3\r\n<hello!\r\nEND\r\n"},
		{rqCas("a", "v", 2), "EXISTS\r\n"},
		{rqCas("zz", "v", 2), "NOT_FOUND\r\n"},
		{rqCas("a", "v", 3), "STORED\r\n"},
		{rqGet(ascii.OpGats, 100, "a"), "VALUE a 0 1 4\r\nv\r\nEND\r\n"},
		{rqKey(ascii.OpDelete, "a", false), "DELETED\r\n"},
		{rqKey(ascii.OpDelete, "a", false), "NOT_FOUND\r\n"},
		{rqStore(ascii.OpSet, "n", 0, 0, "10", true), ""},
		{rqArith(ascii.OpIncr, "n", 5, false), "15\r\n"},
		{rqArith(ascii.OpDecr, "n", 100, false), "0\r\n"},
		{rqArith(ascii.OpIncr, "zz", 1, false), "NOT_FOUND\r\n"},
		{rqStore(ascii.OpSet, "s", 0, 0, "abc", false), "STORED\r\n"},
		{rqArith(ascii.OpIncr, "s", 1, false), "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"},
		{rqArith(ascii.OpIncr, "s", 1, true), ""},
		{&ascii.Request{Op: ascii.OpTouch, Key: []byte("s"), Exptime: 10}, "TOUCHED\r\n"},
		{&ascii.Request{Op: ascii.OpTouch, Key: []byte("zz"), Exptime: 10}, "NOT_FOUND\r\n"},
		{rqArgs(ascii.OpVerbosity, "1", false), "OK\r\n"},
		{rqArgs(ascii.OpVerbosity, "x", false), "CLIENT_ERROR bad command line format\r\n"},
		{rqArgs(ascii.OpVerbosity, "", false), "ERROR\r\n"},
		{rqArgs(ascii.OpFlushAll, "x", false), "CLIENT_ERROR invalid exptime argument\r\n"},
		{rqArgs(ascii.OpFlushAll, "noreply", true), ""},
		{rqGet(ascii.OpGet, 0, "s"), "END\r\n"},
		{rqArgs(ascii.OpVersion, "", false), "VERSION 1.6.18\r\n"},
		{rqArgs(ascii.OpStats, "reset", false), "RESET\r\n"},
		{rqArgs(ascii.OpStats, "bogus", false), "ERROR\r\n"},
	})
}

func TestExecQuit(t *testing.T) {
	s, _ := newTestServer(Config{})
	var buf bytes.Buffer
	if !s.execute(bufio.NewWriter(&buf), &ascii.Request{Op: ascii.OpQuit}) {
		t.Fatal("quit did not ask to close")
	}
}

func TestExecOutOfMemory(t *testing.T) {
	s, _ := newTestServer(Config{MaxBytes: 200, NoEvict: true})
	runSteps(t, s, []step{
		{rqStore(ascii.OpSet, "a", 0, 0, strings.Repeat("x", 100), false), "STORED\r\n"},
		{rqStore(ascii.OpSet, "b", 0, 0, strings.Repeat("x", 100), false), "SERVER_ERROR out of memory storing object\r\n"},
		{rqStore(ascii.OpSet, "b", 0, 0, strings.Repeat("x", 100), true), ""},
		{rqMeta(ascii.OpMetaSet, "ms b 100 q", strings.Repeat("x", 100)), "SERVER_ERROR out of memory storing object\r\n"},
	})
}

func TestExecStats(t *testing.T) {
	s, _ := newTestServer(Config{})
	run(s, rqStore(ascii.OpSet, "a", 0, 0, "1", false))
	run(s, rqGet(ascii.OpGet, 0, "a", "b"))
	out := run(s, rqArgs(ascii.OpStats, "", false))
	for _, want := range []string{"STAT pid ", "STAT get_hits 1\r\n", "STAT get_misses 1\r\n", "STAT cmd_set 1\r\n",
		"STAT curr_items 1\r\n", "STAT limit_maxbytes 67108864\r\n", "STAT version 1.6.18\r\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("stats lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, "\r\nEND\r\n") {
		t.Errorf("stats does not end with END")
	}
}
