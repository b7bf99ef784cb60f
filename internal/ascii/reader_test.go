package ascii

import (
	"bufio"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// got is a comparable copy of a parsed Request (or of its error).
type got struct {
	Op        Op
	Key       string
	Keys      []string
	Flags     uint32
	Exptime   int64
	Cas       uint64
	Delta     uint64
	NoReply   bool
	Data      string
	MetaFlags []string
	Quiet     bool
	Base64    bool
	Args      []string
	Err       *Error
}

func strs(bs [][]byte) []string {
	if len(bs) == 0 {
		return nil
	}
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

func snapshot(req *Request, err error) got {
	var pe *Error
	if errors.As(err, &pe) {
		return got{Err: pe}
	}
	return got{Op: req.Op, Key: string(req.Key), Keys: strs(req.Keys), Flags: req.Flags,
		Exptime: req.Exptime, Cas: req.Cas, Delta: req.Delta, NoReply: req.NoReply,
		Data: string(req.Data), MetaFlags: strs(req.MetaFlags), Quiet: req.Quiet,
		Base64: req.Base64, Args: strs(req.Args)}
}

// parseAll parses every command of in until EOF or a closing error.
func parseAll(t *testing.T, in string, bufSize int) []got {
	t.Helper()
	r := NewReader(bufio.NewReaderSize(strings.NewReader(in), bufSize), DefaultMaxItemSize)
	var req Request
	var out []got
	for {
		err := r.Next(&req)
		if err == io.EOF {
			return out
		}
		var pe *Error
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("input %q: %v", in, err)
		}
		out = append(out, snapshot(&req, err))
		if pe != nil && pe.Close {
			return out
		}
	}
}

func e(reply string) got { return got{Err: &Error{Reply: reply}} }

var silent = got{Err: &Error{}}

func TestReaderTable(t *testing.T) {
	keys10k := make([]string, 10000)
	for i := range keys10k {
		keys10k[i] = strings.Repeat(string(rune('a'+i%26)), 250)
	}
	cases := []struct {
		name string
		in   string
		want []got
	}{
		{"get", "get foo\r\n", []got{{Op: OpGet, Keys: []string{"foo"}}}},
		{"gets duplicates and spaces", "gets  a b  a \n", []got{{Op: OpGets, Keys: []string{"a", "b", "a"}}}},
		{"gat", "gat 30 a b\r\ngats -1 c\r\ngat 0\r\n", []got{
			{Op: OpGat, Exptime: 30, Keys: []string{"a", "b"}},
			{Op: OpGats, Exptime: -1, Keys: []string{"c"}},
			{Op: OpGat}}},
		{"set pipelined", "set k 5 10 3\r\nabc\r\nadd k 0 0 0 noreply\r\n\r\nget k\r\n", []got{
			{Op: OpSet, Key: "k", Flags: 5, Exptime: 10, Data: "abc"},
			{Op: OpAdd, Key: "k", NoReply: true, Data: ""},
			{Op: OpGet, Keys: []string{"k"}}}},
		{"data may hold newlines", "set k 0 0 4\r\na\r\nb\r\n", []got{{Op: OpSet, Key: "k", Data: "a\r\nb"}}},
		{"cas", "cas k 1 2 3 99 noreply\r\nxyz\r\n", []got{{Op: OpCas, Key: "k", Flags: 1, Exptime: 2, Cas: 99, NoReply: true, Data: "xyz"}}},
		{"C number quirks", "set k 4294967297 2147483648 +1\r\na\r\nreplace k -0 4294967297 1\t\r\nb\r\n", []got{
			{Op: OpSet, Key: "k", Flags: 1, Exptime: -2147483648, Data: "a"},
			{Op: OpReplace, Key: "k", Exptime: 1, Data: "b"}}},
		{"extra token is not noreply", "set k 0 0 1 junk\r\na\r\n", []got{{Op: OpSet, Key: "k", Data: "a"}}},
		{"append prepend", "append k 0 0 1\r\na\r\nprepend k 0 0 1\r\nb\r\n", []got{
			{Op: OpAppend, Key: "k", Data: "a"}, {Op: OpPrepend, Key: "k", Data: "b"}}},
		{"delete", "delete k\r\ndelete k 0\r\ndelete k noreply\r\ndelete k 0 noreply\r\n", []got{
			{Op: OpDelete, Key: "k"}, {Op: OpDelete, Key: "k"},
			{Op: OpDelete, Key: "k", NoReply: true}, {Op: OpDelete, Key: "k", NoReply: true}}},
		{"incr decr touch", "incr k 18446744073709551615\r\ndecr k 1 noreply\r\ntouch k 10 noreply\r\n", []got{
			{Op: OpIncr, Key: "k", Delta: 18446744073709551615},
			{Op: OpDecr, Key: "k", Delta: 1, NoReply: true},
			{Op: OpTouch, Key: "k", Exptime: 10, NoReply: true}}},
		{"admin", "stats proxy config\r\nstats\r\nflush_all\r\nflush_all 10 noreply\r\nverbosity 1\r\nversion\r\nquit\r\n", []got{
			{Op: OpStats, Args: []string{"proxy", "config"}}, {Op: OpStats},
			{Op: OpFlushAll}, {Op: OpFlushAll, Exptime: 10, NoReply: true, Args: []string{"10"}},
			{Op: OpVerbosity, Args: []string{"1"}}, {Op: OpVersion}, {Op: OpQuit}}},
		{"meta", "mg k v t q\r\nmd k q\r\nma k D5 MD\r\nmn\r\nme k\r\n", []got{
			{Op: OpMetaGet, Key: "k", MetaFlags: []string{"v", "t", "q"}, Quiet: true},
			{Op: OpMetaDelete, Key: "k", MetaFlags: []string{"q"}, Quiet: true},
			{Op: OpMetaArith, Key: "k", MetaFlags: []string{"D5", "MD"}},
			{Op: OpMetaNoop}, {Op: OpMetaDebug, Key: "k"}}},
		{"ms", "ms k 3 T10 F5 q\r\nabc\r\nms k 0\r\n\r\n", []got{
			{Op: OpMetaSet, Key: "k", Data: "abc", MetaFlags: []string{"T10", "F5", "q"}, Quiet: true},
			{Op: OpMetaSet, Key: "k", Data: ""}}},
		{"base64 keys", "mg a2V5 v b\r\nms Zm9v 1 b\r\nx\r\nme YmFy b\r\nmg a!2V5 b\r\n", []got{
			{Op: OpMetaGet, Key: "key", MetaFlags: []string{"v", "b"}, Base64: true},
			{Op: OpMetaSet, Key: "foo", Data: "x", MetaFlags: []string{"b"}, Base64: true},
			{Op: OpMetaDebug, Key: "bar", MetaFlags: []string{"b"}, Base64: true},
			{Op: OpMetaGet, Key: "key", MetaFlags: []string{"b"}, Base64: true}}},
		{"resync after errors", "bogus\r\nset k 0 0 x\r\nget a\r\nset k 0 0 2\r\nabXXget b\r\nmg k !\r\nmn\r\n", []got{
			e("ERROR"), e("CLIENT_ERROR bad command line format"), {Op: OpGet, Keys: []string{"a"}},
			e("CLIENT_ERROR bad data chunk"), {Op: OpGet, Keys: []string{"b"}},
			e("CLIENT_ERROR invalid flag"), {Op: OpMetaNoop}}},
		{"noreply errors are silent", "set k x 0 1 noreply\r\nget c\r\nverbosity noreply\r\n", []got{
			silent, {Op: OpGet, Keys: []string{"c"}}, silent}},
		{"too large then next", "ms k 2000000\r\n" + strings.Repeat("z", 2000000) + "\r\nget d\r\n", []got{
			{Err: &Error{Reply: "SERVER_ERROR object too large for cache", DropKey: true}}, {Op: OpGet, Keys: []string{"d"}}}},
		{"line guard", strings.Repeat("y", 3000) + "\r\nget e\r\n", []got{{Err: &Error{Close: true}}}},
		{"10,000-key get", "get " + strings.Join(keys10k, " ") + "\r\nmn\r\n", []got{
			{Op: OpGet, Keys: keys10k}, {Op: OpMetaNoop}}},
		{"multiget hard cap", "get " + strings.Repeat("k ", MaxMultiGetLineLength/2+1), []got{{Err: &Error{Close: true}}}},
	}
	for _, c := range cases {
		for _, size := range []int{16, 4096} {
			res := parseAll(t, c.in, size)
			if !reflect.DeepEqual(res, c.want) {
				t.Errorf("%s (buffer %d):\n got %+v\nwant %+v", c.name, size, brief(res), brief(c.want))
			}
		}
	}
}

// brief shortens results for failure messages (a 10,000-key get is long).
func brief(gs []got) []got {
	out := make([]got, len(gs))
	for i, g := range gs {
		if len(g.Keys) > 5 {
			g.Keys = append(g.Keys[:5:5], "...")
		}
		out[i] = g
	}
	return out
}

func TestReaderIOErrors(t *testing.T) {
	for _, in := range []string{"get k", "set k 0 0 5\r\nab", "set k 0 0 2000000\r\nab", "ms k 1 Tx\r\n"} {
		r := NewReader(bufio.NewReader(strings.NewReader(in)), 0)
		var req Request
		if err := r.Next(&req); err != io.ErrUnexpectedEOF {
			t.Errorf("%q: got %v, want io.ErrUnexpectedEOF", in, err)
		}
	}
}

// TestKeysSurviveDataRead checks that keys do not point into the bufio
// buffer, which the data read refills.
func TestKeysSurviveDataRead(t *testing.T) {
	in := "set thekey 0 0 100\r\n" + strings.Repeat("v", 100) + "\r\n"
	r := NewReader(bufio.NewReaderSize(strings.NewReader(in), 16), 0)
	var req Request
	if err := r.Next(&req); err != nil {
		t.Fatal(err)
	}
	if string(req.Key) != "thekey" || string(req.Tokens[0]) != "set" || len(req.Data) != 100 {
		t.Fatalf("got key %q tokens %q data %d bytes", req.Key, req.Tokens, len(req.Data))
	}
}
