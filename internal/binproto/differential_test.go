package binproto

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/proxytest"
)

// smallItemArgs run a memcached whose item size limit is 1024 (as the
// refusals with maxItem 1024 assume) and whose flush is disabled (-F),
// the one way to make it send StatusAuthError without SASL.
func smallItemArgs() []string { return []string{"-I", "1024", "-o", "slab_chunk_max=512", "-F"} }

// TestDifferentialMemcached replays every refusal, and edge cases the
// Reader accepts, against a real memcached and checks that the Reader
// predicts memcached's answer byte for byte: which requests are refused
// with which status and message, where memcached resumes reading after a
// swallow, and whether it closes the connection.
func TestDifferentialMemcached(t *testing.T) {
	addrs := map[int]string{0: startMemcached(t), 1024: startMemcached(t, smallItemArgs()...)}
	cases := append(refusals(), acceptedEdges()...)
	pr := probe{marker: OpNoop}
	for _, c := range cases {
		pr.compare(t, c.name, addrs[c.maxItem], c.in, c.maxItem)
	}
}

// TestDifferentialMemcachedSASL checks a Reader with ServeSASL against
// memcached -S. Such a memcached refuses every command but SASL and
// VERSION from a client that has not authenticated, so VERSION brackets
// the cases.
func TestDifferentialMemcachedSASL(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "memcached.conf"), []byte("mech_list: plain\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // readable by -u nobody
		t.Fatal(err)
	}
	t.Setenv("SASL_CONF_PATH", dir)
	addr := startMemcached(t, "-S")
	pr := probe{marker: OpVersion, setup: (*Reader).ServeSASL}
	for _, c := range saslCases() {
		pr.compare(t, c.name, addr, c.in, 0)
	}
}

// probe is how a case is put to memcached: between two marker requests
// (opaque 0x01020304 before, 0xeeeeeeee after), with the Reader set up
// the way that memcached is.
type probe struct {
	marker Opcode
	setup  func(*Reader)
}

// compare sends in to memcached and checks its transcript against the
// one the Reader predicts.
func (pr probe) compare(t *testing.T, name, addr string, in []byte, maxItem int) {
	t.Helper()
	in = cat(pkt(pr.marker, "", "", ""), in, AppendRequest(nil, pr.marker, 0, 0xeeeeeeee, 0, nil, nil, nil))
	want := pr.readerTranscript(in, maxItem)
	if last := len(want.replies) - 1; !want.closed && (last < 0 || want.replies[last] != pr.markerReply(0xeeeeeeee)) {
		t.Fatalf("%s: case does not end with memcached closing or answering the marker: %v", name, want)
	}
	got := pr.memcachedTranscript(t, addr, in, want)
	if got.String() != want.String() {
		t.Errorf("%s:\nmemcached: %v\nReader:    %v", name, got, want)
	}
}

// acceptedEdges are inputs the Reader accepts, or refuses only after
// accepting something, that show memcached's framing.
func acceptedEdges() []refusal {
	e4, e8, flags8 := "\x00\x00\x00\x00", strings.Repeat("\x00", 8), "\x00\x00\x00\x01\x00\x00\x00\x00"
	const max = 1048516 // largest value of key "k" with flags 0 under -I 1m, measured
	return []refusal{
		{name: "get with a 250-byte key", in: pkt(OpGet, "", strings.Repeat("k", 250), "")},
		{name: "set at the 1 MiB limit", in: pkt(OpSet, e8, "k", strings.Repeat("v", max))},
		{name: "set at the 1 MiB limit with flags", in: pkt(OpSet, flags8, "k", strings.Repeat("v", max-4))},
		{name: "set with flags over the limit", in: pkt(OpSet, flags8, "k", strings.Repeat("v", max-3))},
		{name: "append over the limit", in: pkt(OpAppend, "", "k", strings.Repeat("v", max+1))},
		{name: "append at the limit", in: pkt(OpAppendQ, "", "k", strings.Repeat("v", max))},
		{name: "touch whose value is a request", in: pkt(OpTouch, e4, "k", string(pkt(OpNoop, "", "", "")))},
		{name: "gatkq whose value is a request", in: pkt(OpGatKQ, e4, "k", string(pkt(OpNoop, "", "", "")))},
		{name: "stat whose value is a request", in: pkt(OpStat, "", "", string(pkt(OpNoop, "", "", "")))},
		{name: "stat whose value is a bad magic", in: pkt(OpStat, "", "settings", "xx")},
		{name: "unknown command then a bad magic drops the reply", in: cat(pkt(0x30, "", "", "abc"), make([]byte, HeaderLen))},
		{name: "quit", in: pkt(OpQuit, "", "", "")},
		{name: "quitq", in: pkt(OpQuitQ, "", "", "")},
		{name: "flush with delay", in: pkt(OpFlushQ, e4, "", "")},
		{name: "datatype and vbucket are ignored", in: append((&Header{Magic: MagicRequest, Opcode: OpGetKQ,
			KeyLen: 1, DataType: 7, VBucket: 9, BodyLen: 1}).AppendTo(nil), 'k')},
	}
}

// transcript is what a client sees: the replies the framing decides (to
// the marker requests, and refusals byte for byte), in order, and whether
// the server closed.
type transcript struct {
	replies []string
	closed  bool
}

func (tr transcript) String() string {
	return fmt.Sprintf("%q closed=%v", tr.replies, tr.closed)
}

func (pr probe) markerReply(opaque uint32) string {
	return fmt.Sprintf("%#02x answered, opaque %#08x", uint8(pr.marker), opaque)
}

func refusalReply(pkt []byte) string {
	return fmt.Sprintf("%x %q", pkt[:HeaderLen], pkt[HeaderLen:])
}

// readerTranscript predicts memcached's transcript for in from the
// Reader's decisions. memcached flushes its replies at a NOOP and when
// it closes after a refusal, but closing without a reply drops the
// replies queued since the last flush.
func (pr probe) readerTranscript(in []byte, maxItem int) transcript {
	r := NewReader(bufio.NewReader(bytes.NewReader(in)), maxItem)
	if pr.setup != nil {
		pr.setup(r)
	}
	var tr transcript
	var p Packet
	var buf []byte
	flushed := 0
	for {
		var err error
		buf, err = r.Next(&p, buf)
		var perr *Error
		switch {
		case err == nil && p.Opcode == pr.marker:
			tr.replies = append(tr.replies, pr.markerReply(p.Opaque))
			if p.Opcode == OpNoop {
				flushed = len(tr.replies)
			}
		case err == nil && p.Opcode.Loud() == OpQuit:
			tr.closed = true
			return tr
		case err == nil:
		case errors.As(err, &perr) && perr.NoReply:
			tr.replies = tr.replies[:flushed]
			tr.closed = true
			return tr
		case errors.As(err, &perr):
			tr.replies = append(tr.replies,
				refusalReply(AppendError(nil, p.Opcode, perr.Status, p.Opaque, perr.Status.Message())))
			if perr.Close {
				tr.closed = true
				return tr
			}
		default: // the input ended: memcached waits for more
			return tr
		}
	}
}

// memcachedTranscript sends in to memcached on a fresh connection and
// reads the replies until memcached closes, or, when the Reader says it
// keeps the connection, until as many replies as predicted have come
// (the last answering the final marker, nothing can follow).
func (pr probe) memcachedTranscript(t *testing.T, addr string, in []byte, want transcript) transcript {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial memcached: %v", err)
	}
	defer conn.Close()
	go func() { _, _ = conn.Write(in) }() // memcached may close before reading it all
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	var got transcript
	var p Packet
	for want.closed || len(got.replies) < len(want.replies) {
		reply, _, err := ReadResponse(br, nil, &p)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
			got.closed = true
			break
		}
		if err != nil {
			t.Errorf("reading memcached's replies: %v (so far %v)", err, got)
			break
		}
		switch p.Status() {
		case StatusOK:
			if p.Opcode == pr.marker {
				got.replies = append(got.replies, pr.markerReply(p.Opaque))
			}
		case StatusTooBig, StatusInvalid, StatusUnknownCommand, StatusNoMemory:
			got.replies = append(got.replies, refusalReply(reply))
		}
	}
	return got
}

// TestMessagesMatchMemcached provokes every status memcached sends with
// its default text and checks the reply against AppendError with
// Status.Message: same text, key, extras and CAS zero.
func TestMessagesMatchMemcached(t *testing.T) {
	addr := startMemcached(t)
	small := startMemcached(t, smallItemArgs()...)
	e8, e20 := strings.Repeat("\x00", 8), strings.Repeat("\x00", 20)
	cases := []struct {
		addr   string
		setup  []byte // requests whose replies are skipped
		req    []byte
		status Status
	}{
		{addr, nil, pkt(OpGet, "", "missing", ""), StatusKeyNotFound},
		{addr, pkt(OpSet, e8, "exists", "v"), pkt(OpAdd, e8, "exists", "v"), StatusKeyExists},
		{addr, nil, pkt(OpSet, e8, "big", strings.Repeat("v", DefaultMaxItemSize)), StatusTooBig},
		{addr, nil, pkt(OpGet, "", "", ""), StatusInvalid},
		{addr, nil, pkt(OpAppend, "", "missing", "v"), StatusNotStored},
		{addr, pkt(OpSet, e8, "text", "abc"), pkt(OpIncrement, e20, "text", ""), StatusDeltaBadValue},
		{addr, nil, pkt(0x30, "", "", ""), StatusUnknownCommand},
		{small, nil, pkt(OpFlush, "", "", ""), StatusAuthError},
	}
	for _, c := range cases {
		conn, err := net.Dial("tcp", c.addr)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write(cat(c.setup, c.req)); err != nil {
			t.Fatalf("write: %v", err)
		}
		br := bufio.NewReader(conn)
		var p Packet
		got, _, err := ReadResponse(br, nil, &p)
		if err == nil && c.setup != nil {
			got, _, err = ReadResponse(br, nil, &p)
		}
		conn.Close()
		if err != nil {
			t.Fatalf("status %#04x: %v", uint16(c.status), err)
		}
		want := AppendError(nil, Opcode(c.req[1]), c.status, 0x01020304, c.status.Message())
		if !bytes.Equal(got, want) {
			t.Errorf("status %#04x: memcached sent\n%x %q\nAppendError makes\n%x %q",
				uint16(c.status), got[:HeaderLen], got[HeaderLen:], want[:HeaderLen], want[HeaderLen:])
		}
	}
}

// startMemcached starts a real memcached with args for the differential
// test and returns its address (proxytest's one launcher and tool check).
func startMemcached(t *testing.T, args ...string) string {
	t.Helper()
	return proxytest.StartMemcached(t, "internal/binproto", args...).Addr
}
