package ascii

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// errorCase is bad input and the exact bytes memcached 1.6.18 answers. The
// inputs contain only bad commands and "mn" (answered "MN"), so the
// expected transcript follows from the parser's errors alone.
// differential_test.go replays every case against a real memcached.
type errorCase struct {
	name  string
	in    string
	want  string
	close bool // memcached closes the connection after want
}

// transcript renders what memcached sends for in, as the parser sees it:
// the Reply of each *Error and "MN" for each mn. It stops at the end of the
// input or at an error with Close set.
func transcript(t *testing.T, in string, bufSize int) (out string, closed bool) {
	t.Helper()
	r := NewReader(bufio.NewReaderSize(strings.NewReader(in), bufSize), DefaultMaxItemSize)
	var req Request
	var b strings.Builder
	for {
		err := r.Next(&req)
		var pe *Error
		switch {
		case errors.As(err, &pe):
			if pe.Reply != "" {
				b.WriteString(pe.Reply + "\r\n")
			}
			if pe.Close {
				return b.String(), true
			}
		case err == io.EOF:
			return b.String(), false
		case err != nil:
			t.Fatalf("input %q: unexpected error %v", in, err)
		case req.Op == OpMetaNoop:
			b.WriteString("MN\r\n")
		default:
			t.Fatalf("input %q: command %q parsed fine; error cases may only hold bad commands and mn", in, req.Line)
		}
	}
}

func TestErrorTranscripts(t *testing.T) {
	for _, c := range errorCases() {
		for _, size := range []int{16, 4096} {
			got, closed := transcript(t, c.in, size)
			if got != c.want || closed != c.close {
				t.Errorf("%s (buffer %d): got %q closed=%v, want %q closed=%v",
					c.name, size, got, closed, c.want, c.close)
			}
		}
	}
}

// errorCases lists the bad inputs whose replies were checked against
// memcached 1.6.18.
func errorCases() []errorCase {
	var cs []errorCase
	cs = append(cs, framingCases()...)
	cs = append(cs, storageCases()...)
	cs = append(cs, otherClassicCases()...)
	cs = append(cs, metaCases()...)
	cs = append(cs, metaSetCases()...)
	return cs
}

const (
	mn       = "mn\r\n"
	mnReply  = "MN\r\n"
	errLine  = "ERROR\r\n"
	badFmt   = "CLIENT_ERROR bad command line format\r\n"
	badChunk = "CLIENT_ERROR bad data chunk\r\n"
)

var key251 = strings.Repeat("k", 251)

func framingCases() []errorCase {
	return []errorCase{
		{"unknown", "foo\r\n" + mn, errLine + mnReply, false},
		{"empty line", "\r\n\n" + mn, errLine + errLine + mnReply, false},
		{"spaces only", "   \r\n" + mn, errLine + mnReply, false},
		{"one char", "g\r\n" + mn, errLine + mnReply, false},
		{"upper case", "GET k\r\nSet k 0 0 1\r\n" + mn, errLine + errLine + mnReply, false},
		{"prefix is not enough", "gett k\r\nsets k\r\n" + mn, errLine + errLine + mnReply, false},
		{"unknown meta", "mx k\r\nm\r\n" + mn, errLine + errLine + mnReply, false},
		{"bare newline", "foo\nfoo\r\n" + mn, errLine + errLine + mnReply, false},
		{"NUL ends the line", "get\x00 a b\r\n" + mn, errLine + mnReply, false},
		{"2048 bytes then newline", strings.Repeat("x", 2047) + "\r\n" + mn, errLine + mnReply, false},
		{"2049 bytes without newline", strings.Repeat("x", 2049), "", true},
		{"long set line", "set k 0 0 1 " + strings.Repeat("x", 3000), "", true},
		{"long get line without key end", "get" + strings.Repeat("x", 3000), "", true},
		{"101 spaces before get", strings.Repeat(" ", 101) + "get " + strings.Repeat("x", 3000), "", true},
		{"get no key", "get\r\ngets\r\ngat\r\ngats\r\nget \r\n" + mn, strings.Repeat(errLine, 5) + mnReply, false},
		{"get key too long", "get a " + key251 + " b\r\n" + mn, badFmt + mnReply, false},
		{"gat bad exptime", "gat abc k\r\ngats 1x k\r\n" + mn,
			"CLIENT_ERROR invalid exptime argument\r\nCLIENT_ERROR invalid exptime argument\r\n" + mnReply, false},
		{"gat key too long", "gat 0 " + key251 + "\r\n" + mn, badFmt + mnReply, false},
	}
}

func storageCases() []errorCase {
	big := strings.Repeat("a", 2000000)
	return []errorCase{
		{"set arity", "set\r\nset k 0 0\r\nset k 0 0 1 2 3\r\n" + mn, errLine + errLine + errLine + mnReply, false},
		{"cas arity", "cas k 0 0 1\r\n" + mn, errLine + mnReply, false},
		{"bad flags, data read as command", "set k -1 0 1\r\na\r\n" + mn, badFmt + errLine + mnReply, false},
		{"bad exptime", "set k 0 0x1 1\r\nab\r\n" + mn, badFmt + errLine + mnReply, false},
		{"bad bytes", "set k 0 0 abc\r\nhello\r\n" + mn, badFmt + errLine + mnReply, false},
		{"negative bytes", "set k 0 0 -1\r\n" + mn, badFmt + mnReply, false},
		{"bytes above INT_MAX-2", "set k 0 0 2147483646\r\n" + mn, badFmt + mnReply, false},
		{"bytes overflow 64 bits", "add k 0 0 99999999999999999999\r\n" + mn, badFmt + mnReply, false},
		{"key too long", "set " + key251 + " 0 0 1\r\nab\r\n" + mn, badFmt + errLine + mnReply, false},
		{"bad cas", "cas k 0 0 1 x\r\nab\r\ncas k 0 0 1 -1\r\nab\r\n" + mn, badFmt + errLine + badFmt + errLine + mnReply, false},
		{"cas overflow", "cas k 0 0 1 18446744073709551616\r\nab\r\n" + mn, badFmt + errLine + mnReply, false},
		{"bad flags noreply is silent", "set k x 0 1 noreply\r\nab\r\n" + mn, errLine + mnReply, false},
		{"bad data chunk", "set k 0 0 5\r\nhelloXXmn\r\n", badChunk + mnReply, false},
		{"bad data chunk bare newline", "set k 0 0 5\r\nhello\nxmn\r\n", badChunk + mnReply, false},
		{"bad data chunk consumes exactly", "append k 0 0 1\r\nabcdmn\r\n", badChunk + errLine, false},
		{"bad data chunk noreply is silent", "prepend k 0 0 5 noreply\r\nhelloXXmn\r\n", mnReply, false},
		{"too large swallowed", "set k 0 0 2000000\r\n" + big + "\r\n" + mn,
			"SERVER_ERROR object too large for cache\r\n" + mnReply, false},
		{"too large swallows without checking", "set k 0 0 2000000\r\n" + big + "XX" + mn,
			"SERVER_ERROR object too large for cache\r\n" + mnReply, false},
		{"too large noreply is silent", "set k 0 0 2000000 noreply\r\n" + big + "\r\n" + mn, mnReply, false},
		{"too large counts the header", "set k 0 0 1048517\r\n" + big[:1048517] + "\r\n" + mn,
			"SERVER_ERROR object too large for cache\r\n" + mnReply, false},
		{"too large counts the flags", "set k 1 0 1048513\r\n" + big[:1048513] + "\r\n" + mn,
			"SERVER_ERROR object too large for cache\r\n" + mnReply, false},
	}
}

func otherClassicCases() []errorCase {
	usage := "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"
	badExp := "CLIENT_ERROR invalid exptime argument\r\n"
	badDelta := "CLIENT_ERROR invalid numeric delta argument\r\n"
	return []errorCase{
		{"delete hold time", "delete k 1\r\ndelete k x y\r\ndelete k 0 0\r\n" + mn, usage + usage + usage + mnReply, false},
		{"delete hold time noreply is silent", "delete k 1 noreply\r\n" + mn, mnReply, false},
		{"delete arity", "delete\r\ndelete k 0 0 0\r\n" + mn, errLine + errLine + mnReply, false},
		{"delete key too long", "delete " + key251 + "\r\ndelete " + key251 + " noreply\r\n" + mn, badFmt + mnReply, false},
		{"incr bad delta", "incr k abc\r\ndecr k -1\r\nincr k 18446744073709551616\r\n" + mn, badDelta + badDelta + badDelta + mnReply, false},
		{"incr bad delta noreply is silent", "incr k x noreply\r\n" + mn, mnReply, false},
		{"incr arity", "incr k\r\ndecr k 1 2 3\r\n" + mn, errLine + errLine + mnReply, false},
		{"incr key too long", "incr " + key251 + " 1\r\n" + mn, badFmt + mnReply, false},
		{"touch bad exptime", "touch k abc\r\ntouch k abc noreply\r\n" + mn, badExp + mnReply, false},
		{"touch arity", "touch k\r\n" + mn, errLine + mnReply, false},
		{"flush_all bad delay", "flush_all x\r\nflush_all x noreply\r\nflush_all noreply 5\r\n" + mn, badExp + badExp + mnReply, false},
		{"flush_all arity", "flush_all 1 2 3\r\n" + mn, errLine + mnReply, false},
		{"verbosity", "verbosity\r\nverbosity x\r\nverbosity noreply\r\nverbosity 1 2 3\r\n" + mn,
			errLine + badFmt + errLine + mnReply, false},
	}
}
