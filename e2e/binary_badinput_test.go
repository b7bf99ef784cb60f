package e2e

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/binproto"
)

// binReply is an expected response: opcode, status, opaque and body.
type binReply struct {
	op     binproto.Opcode
	status binproto.Status
	opaque uint32
	body   string
}

// badBinaryCase is a request sequence with malformed input, the replies it
// must get and whether the connection must then be closed. Cases that
// keep the connection end with a NOOP to show it still serves.
type badBinaryCase struct {
	name   string
	send   [][]byte
	want   []binReply
	closed bool
}

// badBinaryCases cover the four ways memcached 1.6 refuses a binary
// request: close without a reply, reply and close, reply and skip the
// body, reply and skip a value too large to store.
func badBinaryCases() []badBinaryCase {
	noop := binReq(binproto.OpNoop, "", "", nil, 99)
	noopReply := binReply{binproto.OpNoop, binproto.StatusOK, 99, ""}
	badMagic := binReq(binproto.OpGet, "k", "", nil, 2)
	badMagic[0] = binproto.MagicResponse
	big := strings.Repeat("v", binproto.DefaultMaxItemSize+1)
	return append(zeroKeyCases(), []badBinaryCase{
		{
			name:   "bad magic",
			send:   [][]byte{binReq(binproto.OpNoop, "", "", nil, 1), badMagic},
			want:   []binReply{{binproto.OpNoop, binproto.StatusOK, 1, ""}},
			closed: true,
		},
		{
			name:   "key of 251 bytes",
			send:   [][]byte{binReq(binproto.OpGet, key251, "", nil, 3)},
			want:   []binReply{{binproto.OpGet, binproto.StatusInvalid, 3, "Invalid arguments"}},
			closed: true,
		},
		{
			// Without a key: memcached 1.6.18 reads an unknown
			// opcode's key and then skips the whole body length
			// again, eating the next request's first bytes.
			name: "unknown opcode",
			send: [][]byte{binReq(0x50, "", "some value", nil, 4), noop},
			want: []binReply{{0x50, binproto.StatusUnknownCommand, 4, "Unknown command"}, noopReply},
		},
		{
			name: "value over 1 MiB",
			send: [][]byte{
				binReq(binproto.OpSet, "big", big, storeExtras(0, 0), 6),
				binReq(binproto.OpGet, "big", "", nil, 7),
				binReq(binproto.OpSet, "small", "s", storeExtras(0, 0), 8),
				binReq(binproto.OpGet, "small", "", nil, 9),
				noop,
			},
			want: []binReply{
				{binproto.OpSet, binproto.StatusTooBig, 6, "Too large."},
				{binproto.OpGet, binproto.StatusKeyNotFound, 7, "Not found"},
				{binproto.OpSet, binproto.StatusOK, 8, ""},
				{binproto.OpGet, binproto.StatusOK, 9, "s"},
				noopReply,
			},
		},
	}...)
}

// zeroKeyCases send each keyed command with an empty key: memcached
// answers "Invalid arguments" and closes the connection.
func zeroKeyCases() []badBinaryCase {
	var cases []badBinaryCase
	for i, op := range []binproto.Opcode{binproto.OpGet, binproto.OpGetK, binproto.OpGetQ, binproto.OpGetKQ,
		binproto.OpSet, binproto.OpSetQ, binproto.OpAdd, binproto.OpReplace, binproto.OpDelete, binproto.OpDeleteQ,
		binproto.OpIncrement, binproto.OpIncrementQ, binproto.OpAppend, binproto.OpAppendQ, binproto.OpTouch,
		binproto.OpGat, binproto.OpGatQ, binproto.OpGatK} {
		var extras []byte
		value := ""
		switch op.Loud() {
		case binproto.OpSet, binproto.OpAdd, binproto.OpReplace:
			extras, value = storeExtras(0, 0), "v"
		case binproto.OpAppend:
			value = "v"
		case binproto.OpIncrement:
			extras = make([]byte, 20)
		case binproto.OpTouch, binproto.OpGat, binproto.OpGatK:
			extras = make([]byte, 4)
		}
		opaque := uint32(100 + i)
		cases = append(cases, badBinaryCase{
			name:   fmt.Sprintf("opcode 0x%02x with an empty key", byte(op)),
			send:   [][]byte{binReq(op, "", value, extras, opaque), binReq(binproto.OpNoop, "", "", nil, 99)},
			want:   []binReply{{op, binproto.StatusInvalid, opaque, "Invalid arguments"}},
			closed: true,
		})
	}
	return cases
}

// playBadBinary sends a case's packets to addr (from a goroutine: the
// large value may not fit the socket buffers before replies are read),
// checks the replies and the close, and returns the raw reply bytes with
// CAS fields zeroed.
func playBadBinary(t *testing.T, addr string, c badBinaryCase) []byte {
	t.Helper()
	bc := dialBinary(t, addr)
	werr := make(chan error, 1)
	go func() {
		_ = bc.c.SetWriteDeadline(time.Now().Add(ioTimeout))
		_, err := bc.c.Write(bytes.Join(c.send, nil))
		werr <- err
	}()
	var raw []byte
	for i, w := range c.want {
		_ = bc.c.SetReadDeadline(time.Now().Add(ioTimeout))
		var p binproto.Packet
		buf, start, err := binproto.ReadResponse(bc.r, nil, &p)
		if err != nil {
			t.Fatalf("%s: %s: reply %d: %v", addr, c.name, i, err)
		}
		if p.Opcode != w.op || p.Status() != w.status || p.Opaque != w.opaque || string(p.Value) != w.body {
			t.Errorf("%s: %s: reply %d: opcode 0x%02x status 0x%04x opaque %d body %q; want 0x%02x 0x%04x %d %q",
				addr, c.name, i, byte(p.Opcode), uint16(p.Status()), p.Opaque, abbrev(string(p.Value)),
				byte(w.op), uint16(w.status), w.opaque, w.body)
		}
		clear(buf[start+16 : start+binproto.HeaderLen]) // CAS differs between servers
		raw = append(raw, buf[start:]...)
	}
	if c.closed {
		bc.expectClosed()
	}
	// A write into a connection the peer closed may fail; only the
	// reads above decide.
	if err := <-werr; err != nil && !c.closed {
		t.Errorf("%s: %s: write: %v", addr, c.name, err)
	}
	return raw
}

// TestBinaryBadInput: malformed binary requests through moxi get the
// bytes memcached sends for them, and the connection is closed or kept
// as memcached does; the same through moxi -p. (A proxy with a text
// downstream is left out: it refuses binary clients' commands.)
func TestBinaryBadInput(t *testing.T) {
	t.Parallel()
	direct := startMemcached(t)
	targets := map[string]string{
		"proxy-binary-downstream": startBinaryProxy(t, []string{startMemcached(t).Addr}, "").Addr,
		"builtin-server":          startServer(t).Addr,
	}
	for _, c := range badBinaryCases() {
		t.Run(c.name, func(t *testing.T) { compareBadBinary(t, direct.Addr, targets, c) })
	}
}

// compareBadBinary plays c against memcached at direct and against each
// target, requiring the same reply bytes.
func compareBadBinary(t *testing.T, direct string, targets map[string]string, c badBinaryCase) {
	t.Helper()
	want := playBadBinary(t, direct, c)
	for name, addr := range targets {
		if got := playBadBinary(t, addr, c); !bytes.Equal(got, want) {
			t.Errorf("%s: %s: replies differ from memcached's:\n got %q\nwant %q",
				name, c.name, abbrev(string(got)), abbrev(string(want)))
		}
	}
}

// TestTooLargeSetDropsOldValue: memcached unlinks a key's old value when a
// SET of it is refused as too large ("avoid stale data persisting in
// cache"), in both protocols, so a later get misses. moxi refuses such a
// value itself, before the server sees it, so it must drop the old value
// too (on the server, or in moxi -p's own store) to answer as memcached.
func TestTooLargeSetDropsOldValue(t *testing.T) {
	t.Parallel()
	direct := startMemcached(t)
	binaryProxy := startBinaryProxy(t, []string{startMemcached(t).Addr}, "").Addr
	asciiProxy := startProxy(t, []string{startMemcached(t).Addr}, "").Addr
	builtin := startServer(t).Addr
	big := strings.Repeat("v", binproto.DefaultMaxItemSize+1)
	t.Run("binary client", func(t *testing.T) {
		targets := map[string]string{"proxy-binary-downstream": binaryProxy, "builtin-server": builtin}
		compareBadBinary(t, direct.Addr, targets, badBinaryCase{
			name: "too large set over an old value",
			send: [][]byte{
				binReq(binproto.OpSet, "big", "old", storeExtras(0, 0), 1),
				binReq(binproto.OpSet, "big", big, storeExtras(0, 0), 2),
				binReq(binproto.OpGet, "big", "", nil, 3),
			},
			want: []binReply{
				{binproto.OpSet, binproto.StatusOK, 1, ""},
				{binproto.OpSet, binproto.StatusTooBig, 2, "Too large."},
				{binproto.OpGet, binproto.StatusKeyNotFound, 3, "Not found"},
			},
		})
	})
	steps := []step{
		s1("set big 0 0 3\r\nold\r\n"),
		s1(fmt.Sprintf("set big 0 0 %d\r\n%s\r\n", len(big), big)),
		s1("get big\r\n"),
	}
	for name, proxy := range map[string]string{"ascii-downstream": asciiProxy, "binary-downstream": binaryProxy,
		"builtin-server": builtin} {
		t.Run("text client/"+name, func(t *testing.T) { compareTranscripts(t, direct.Addr, proxy, steps) })
	}
}
