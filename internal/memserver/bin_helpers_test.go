package memserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/binproto"
)

// casFromLast in a request's CAS field is replaced, per server, by the
// last non-zero CAS that server sent, so a transcript can do a correct
// compare-and-swap without knowing the ids either server assigns.
const casFromLast = 0xCA5CA5CA5CA5CA5

// sentinelOpaque marks the NOOP that ends every exchange.
const sentinelOpaque = 0xFFFFFFFF

// pktBuilder builds request packets, numbering their opaques.
type pktBuilder struct{ opaque uint32 }

func (b *pktBuilder) req(op binproto.Opcode, cas uint64, extras []byte, key string, value []byte) []byte {
	b.opaque++
	return binproto.AppendRequest(nil, op, 0, b.opaque, cas, extras, []byte(key), value)
}

// key builds a request with a key only: get, delete, stat and friends.
func (b *pktBuilder) key(op binproto.Opcode, key string) []byte { return b.req(op, 0, nil, key, nil) }

func (b *pktBuilder) bare(op binproto.Opcode) []byte { return b.req(op, 0, nil, "", nil) }

func (b *pktBuilder) set(op binproto.Opcode, key string, flags, exp uint32, value string) []byte {
	return b.req(op, 0, setExtras(flags, exp), key, []byte(value))
}

func (b *pktBuilder) casSet(op binproto.Opcode, key string, cas uint64, value string) []byte {
	return b.req(op, cas, setExtras(0, 0), key, []byte(value))
}

func (b *pktBuilder) arith(op binproto.Opcode, key string, delta, initial uint64, exp uint32) []byte {
	e := binary.BigEndian.AppendUint64(nil, delta)
	e = binary.BigEndian.AppendUint64(e, initial)
	return b.req(op, 0, binary.BigEndian.AppendUint32(e, exp), key, nil)
}

func (b *pktBuilder) touch(op binproto.Opcode, key string, exp uint32) []byte {
	return b.req(op, 0, u32(exp), key, nil)
}

func setExtras(flags, exp uint32) []byte { return binary.BigEndian.AppendUint32(u32(flags), exp) }

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// binChunk is one step of a binary transcript, sent in one write.
type binChunk struct {
	name  string
	pkts  [][]byte
	stats bool // keyed STAT packets differ; compare their names only
}

// binSide is one server's connection and the state its replies are
// normalised with.
type binSide struct {
	t       testing.TB
	addr    string
	c       net.Conn
	br      *bufio.Reader
	cas     map[uint64]int // CAS value -> order of first appearance
	lastCas uint64
}

func newBinSide(t testing.TB, addr string) *binSide {
	s := &binSide{t: t, addr: addr, cas: map[uint64]int{}}
	s.redial()
	return s
}

func (s *binSide) redial() {
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("dial %s: %v", s.addr, err)
	}
	s.t.Cleanup(func() { _ = c.Close() })
	s.c, s.br = c, bufio.NewReader(c)
}

// exchange sends the chunk and a sentinel NOOP and returns the replies
// before the sentinel's, one normalised line each, with "<CLOSED>" last
// if the server closed the connection. Keyed STAT packets are left out
// and their names returned when ch.stats is set.
func (s *binSide) exchange(ch *binChunk) (lines, statNames []string, err error) {
	_ = s.c.SetDeadline(time.Now().Add(10 * time.Second))
	var out []byte
	for _, p := range ch.pkts {
		start := len(out)
		out = append(out, p...)
		if len(p) >= binproto.HeaderLen && binary.BigEndian.Uint64(p[16:]) == casFromLast {
			binary.BigEndian.PutUint64(out[start+16:], s.lastCas)
		}
	}
	out = binproto.AppendRequest(out, binproto.OpNoop, 0, sentinelOpaque, 0, nil, nil, nil)
	if _, err := s.c.Write(out); err != nil && !isClosed(err) {
		return nil, nil, fmt.Errorf("write: %w", err)
	}
	var p binproto.Packet
	for {
		_, _, err := binproto.ReadResponse(s.br, nil, &p)
		switch {
		case isClosed(err):
			return append(lines, "<CLOSED>"), statNames, nil
		case err != nil:
			return lines, statNames, fmt.Errorf("after %q: %w", lines, err)
		case p.Opcode == binproto.OpNoop && p.Opaque == sentinelOpaque:
			return lines, statNames, nil
		case ch.stats && p.Opcode == binproto.OpStat && p.Status() == binproto.StatusOK && len(p.Key) > 0:
			statNames = append(statNames, string(p.Key))
		default:
			lines = append(lines, s.render(&p))
		}
	}
}

func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// render prints a reply with its CAS replaced by its order of first
// appearance on this side; long values are summarised.
func (s *binSide) render(p *binproto.Packet) string {
	cas := "0"
	if p.CAS != 0 {
		s.lastCas = p.CAS
		n, ok := s.cas[p.CAS]
		if !ok {
			n = len(s.cas) + 1
			s.cas[p.CAS] = n
		}
		cas = fmt.Sprintf("#%d", n)
	}
	val := fmt.Sprintf("%q", p.Value)
	if len(p.Value) > 64 {
		val = fmt.Sprintf("<%d bytes crc %08x>", len(p.Value), crc32.ChecksumIEEE(p.Value))
	}
	return fmt.Sprintf("op=%#02x status=%#04x opaque=%d cas=%s dt=%d extras=%x key=%q value=%s",
		uint8(p.Opcode), uint16(p.Status()), p.Opaque, cas, p.DataType, p.Extras, p.Key, val)
}
