package a2b

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/binproto"
	"github.com/moxifleet/moxi/internal/proxytest"
)

// a2bScript is the differential script: each entry is one text command
// without its final "\r\n" (a storage command's data block follows its
// line after "\r\n"). "$CAS" stands for the last CAS a reply showed on
// that server. It covers every command a2b translates, hits and misses,
// CAS mismatches, noreply, quiet meta, non-numeric counters, negative TTLs,
// base64 keys, the flags memcached ignores, and values over the limit.
func a2bScript() []string {
	big := strings.Repeat("v", 500000)
	huge := strings.Repeat("h", 1500000)
	return []string{
		// classic storage
		"set foo 5 0 3\r\nbar", "add foo 0 0 1\r\nx", "add newk 7 100 2\r\nhi",
		"replace missing 0 0 1\r\nx", "replace foo 9 0 4\r\nbaz2",
		"append foo 0 0 2\r\n++", "prepend foo 0 0 2\r\n--",
		"append missing 0 0 1\r\nx", "prepend missing 0 0 1\r\nx",
		"mg foo v f c s k", "cas foo 3 0 1 $CAS\r\ny", "cas foo 0 0 1 $CAS\r\nz",
		"cas missing 0 0 1 1\r\nx", "cas foo 0 0 1 0\r\nx", "cas missing 0 0 1 0\r\nx",
		"set foo 0 0 1 noreply\r\nx", "add foo 0 0 1 noreply\r\nx",
		"append missing 0 0 1 noreply\r\nx", "cas foo 0 0 1 1 noreply\r\nx", "mg foo v f",
		"set e 0 0 0\r\n", "mg e v s", "set neg 0 -1 1\r\nx", "mg neg v",
		"set big 3 0 500000\r\n" + big, "mg big s f", "mg big v",
		"set big 0 0 1500000\r\n" + huge, "mg big s", "add huge 0 0 1500000\r\n" + huge,
		// delete, incr/decr, touch
		"delete foo", "delete foo", "delete newk noreply", "mg newk",
		"set n 0 0 2\r\n10", "incr n 5", "decr n 100", "incr n 18446744073709551615",
		"incr n 1", "incr missing 1", "decr missing 1", "set txt 0 0 3\r\nabc",
		"incr txt 1", "decr txt 1", "incr e 1", "incr n 7 noreply", "decr txt 1 noreply", "mg n v",
		"touch n 100", "touch missing 10", "touch n 10 noreply", "touch missing 10 noreply",
		// mg
		"mg missing", "mg missing v k O123", "mg missing q k", "mg n q v k", "mg n",
		"mg n s v c f k O9", "mg n T100 v", "mg n T30 q k c", "mg missing T30 q",
		"mg missing T30 O5", "mg n v C1 F5 D3 J4 M1 P L I",
		// ms
		"ms m1 3\r\nabc", "ms m1 3 T0 F7 c k O1\r\ndef", "ms m1 1 ME\r\nx", "ms m2 1 ME c\r\nx",
		"ms m3 1 MR\r\nx", "ms m3 1 MR c k\r\nx", "ms m1 2 MA\r\n++", "ms m1 2 MP\r\n--",
		"mg m1 v f", "ms m4 1 MA\r\nx", "ms m4 1 MP q\r\nx", "ms m1 1 C1\r\nx", "ms m4 1 C1\r\nx",
		"mg m1 c", "ms m1 1 C$CAS c\r\ny", "ms m1 1 MR C1\r\nx", "ms m4 1 MR C5\r\nx",
		"ms m1 1 MA C1\r\nx", "ms m1 1 MA C0\r\n!", "ms m1 1 C0\r\nx", "ms m4 1 C0\r\nx",
		"ms m1 1 ME C999\r\nx", "ms m5 1 ME C999 c\r\nx", "ms m1 1 q\r\nz", "ms m1 1 ME q\r\nx",
		"ms m6 1 MR q k O7\r\nx", "mg m1 v", "ms m1 1 MS T-1\r\nx", "mg m1",
		"ms m7 2 D1 J1 N1 R1 f h l s t u v P L\r\n77", "mg m7 v",
		"ms mbig 600000 F3\r\n" + big + strings.Repeat("w", 100000), "mg mbig s f",
		"ms mbig 1500000\r\n" + huge, "mg mbig s",
		// base64 keys
		"ms Zm9v 1 b k\r\nz", "mg Zm9v b k v", "mg Zm9v b q k s", "ms AP8= 2 b k c F1\r\nbk",
		"mg AP8= b v k f", "md Zm9v b k O1", "md Zm9v b k q", "mg Zm9v b q k",
		// md
		"md m2", "md m2", "md m2 q", "md m2 q k O3", "md m7 C1", "md m7 C0 k", "mg m7 c",
		"md m7 C$CAS k O5 q", "mg m7", "md missing k O1", "md m5 q", "mg m5",
		"ms m8 1\r\nx", "md m8 v c s f t D1 J1 F1 M1 N1 R1 h l u P L T30", "mg m8",
		// ma
		"set cnt 0 0 1\r\n5", "ma cnt", "ma cnt v", "ma cnt MD D3 v", "ma cnt M- D10 v",
		"ma cnt M+ D7 c v k O1", "ma cnt MI", "mg cnt v", "ma missing", "ma missing q k",
		"ma missing N0 J42 v c", "mg missing v", "ma miss2 N-1 J3 v", "mg miss2 v",
		"ma miss3 N100 v", "ma miss4 N0 J9", "mg miss4 v",
		"ma txt", "ma txt q", "ma e v", "ma cnt C1", "ma cnt C0 v", "mg cnt c",
		"ma cnt C$CAS v c", "ma cnt q v", "mg cnt v", "ma Y250 b k v", "ma cnt D18446744073709551615 v",
		"ma cnt f F1 I h l L P R1 s u v",
	}
}

// TestA2BMatchesMemcached sends every script command as text to one real
// memcached and, through Request, as binary to another, and requires
// Reply's text to be byte-identical to what the first one said.
// pkgName names this package in proxytest's "requires memcached" failures.
const pkgName = "a2b"

func TestA2BMatchesMemcached(t *testing.T) {
	textSrv := proxytest.StartMemcached(t, pkgName)
	binSrv := proxytest.StartMemcached(t, pkgName)
	tc := a2bDial(t, textSrv.Addr)
	bc := a2bDial(t, binSrv.Addr)
	tr, br := bufio.NewReader(tc), bufio.NewReader(bc)
	var textCas, binCas string
	for i, step := range a2bScript() {
		want := a2bTextRoundTrip(t, tc, tr, strings.ReplaceAll(step, "$CAS", textCas))
		got := a2bBinRoundTrip(t, bc, br, strings.ReplaceAll(step, "$CAS", binCas))
		if got != want {
			t.Errorf("step %d %q:\n memcached: %q\n a2b:       %q", i, a2bShort(step), a2bShort(want), a2bShort(got))
		}
		textCas, binCas = a2bLastCas(want, textCas), a2bLastCas(got, binCas)
	}
}

func a2bDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	return c
}

// a2bTextRoundTrip sends cmd and an "mn" and returns everything before MN:
// the reply, empty for noreply and silent quiet commands.
func a2bTextRoundTrip(t *testing.T, c net.Conn, r *bufio.Reader, cmd string) string {
	t.Helper()
	if _, err := c.Write([]byte(cmd + "\r\nmn\r\n")); err != nil {
		t.Fatalf("write text: %v", err)
	}
	var sb strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read text reply to %q: %v", a2bShort(cmd), err)
		}
		if line == "MN\r\n" {
			return sb.String()
		}
		sb.WriteString(line)
	}
}

// a2bBinRoundTrip parses cmd, sends its translation and translates the
// response packets back.
func a2bBinRoundTrip(t *testing.T, c net.Conn, r *bufio.Reader, cmd string) string {
	t.Helper()
	var req ascii.Request
	rd := ascii.NewReader(bufio.NewReader(strings.NewReader(cmd+"\r\n")), 2<<20)
	if err := rd.Next(&req); err != nil {
		t.Fatalf("parse %q: %v", a2bShort(cmd), err)
	}
	out, fenced, errLine := Request(nil, &req, 0)
	if errLine != "" {
		t.Fatalf("Request(%q) refused: %q", a2bShort(cmd), errLine)
	}
	if _, err := c.Write(out); err != nil {
		t.Fatalf("write binary: %v", err)
	}
	var resp []byte
	for {
		var p binproto.Packet
		var err error
		resp, _, err = binproto.ReadResponse(r, resp, &p)
		if err != nil {
			t.Fatalf("read binary response to %q: %v", a2bShort(cmd), err)
		}
		if !fenced || p.Opcode == binproto.OpNoop {
			break
		}
	}
	return string(Reply(nil, &req, resp))
}

// a2bLastCas returns the CAS a meta reply line shows (" c<n>"), or prev.
func a2bLastCas(reply, prev string) string {
	line, _, _ := strings.Cut(reply, "\r\n")
	fields := strings.Fields(line)
	for i, tok := range fields {
		if i > 0 && len(tok) > 1 && tok[0] == 'c' && strings.Trim(tok[1:], "0123456789") == "" {
			return tok[1:]
		}
	}
	return prev
}

// a2bShort keeps failure messages readable when values are large.
func a2bShort(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}
