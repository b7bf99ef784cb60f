package memserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"net"

	"github.com/moxifleet/moxi/internal/binproto"
)

// maxKeptBuf bounds the request and reply buffers a connection keeps
// between requests, so one large value does not pin a megabyte per idle
// client.
const maxKeptBuf = 64 << 10

// binConn is one binary-protocol client. Replies are appended to out and
// written when memcached 1.6 would write them: memcached queues replies
// and writes the queue when it must wait for input, after a NOOP, and
// after most errors. That timing shows in the byte stream only when a
// packet with a bad magic byte closes the connection, which discards
// whatever is still queued; binConn queues the same way so that case
// matches too.
type binConn struct {
	s   *Server
	c   net.Conn
	br  *bufio.Reader
	rd  *binproto.Reader
	pkt binproto.Packet
	ci  *connInfo // this connection in "stats conns"
	in  []byte    // the current request; pkt's slices point into it
	out []byte    // replies not yet written

	flushNow bool   // the last reply makes memcached write its queue
	drop     bool   // close without writing the queue (bad magic)
	setKey   []byte // see saveOversizedSetKey
}

// serveBinary serves a binary-protocol client until it quits, sends
// something memcached closes on, or the connection fails.
func (s *Server) serveBinary(c net.Conn, br *bufio.Reader, ci *connInfo) {
	bc := &binConn{s: s, c: c, br: br, rd: binproto.NewReader(br, s.cfg.MaxItemSize),
		out: make([]byte, 0, connBufSize), ci: ci}
	for {
		keep := bc.step()
		if bc.drop {
			return
		}
		if !keep {
			_ = bc.flush()
			return
		}
		if bc.flushNow || bc.starved() {
			if bc.flush() != nil {
				return
			}
		}
	}
}

// step reads and answers one request and reports whether to keep the
// connection.
func (bc *binConn) step() bool {
	bc.flushNow = false
	bc.saveOversizedSetKey()
	var err error
	bc.in, err = bc.rd.Next(&bc.pkt, bc.in)
	defer bc.trimIn()
	if err == nil {
		bc.ci.lastCmd.Store(bc.s.cfg.Clock().Unix())
		bc.ci.busy.Store(true)
		defer bc.ci.busy.Store(false)
		return bc.exec(&bc.pkt)
	}
	var perr *binproto.Error
	if !errors.As(err, &perr) {
		return false // EOF, reset, or the shutdown deadline
	}
	return bc.refuse(perr)
}

// starved reports whether memcached would have to read more input before
// it could start on the next request: it needs the header, then extras
// and key. This never blocks.
func (bc *binConn) starved() bool {
	n := bc.br.Buffered()
	if n < binproto.HeaderLen {
		return true
	}
	h, _ := bc.br.Peek(binproto.HeaderLen)
	if h[0] != binproto.MagicRequest {
		return false // memcached closes at once, writing nothing more
	}
	return n < binproto.HeaderLen+int(h[4])+int(binary.BigEndian.Uint16(h[2:]))
}

// saveOversizedSetKey keeps the key of a set whose item may be too large
// (binproto decides). memcached then unlinks the key's old value so that
// a failed set never leaves stale data readable, but binproto returns
// such a refusal without the key.
func (bc *binConn) saveOversizedSetKey() {
	bc.setKey = bc.setKey[:0]
	h, err := bc.br.Peek(binproto.HeaderLen)
	if err != nil || h[0] != binproto.MagicRequest || binproto.Opcode(h[1]).Loud() != binproto.OpSet {
		return
	}
	ext, nkey := int(h[4]), int(binary.BigEndian.Uint16(h[2:]))
	value := int64(binary.BigEndian.Uint32(h[8:])) - int64(ext) - int64(nkey)
	// itemSize with non-zero flags is the largest an item of this key and
	// value can be; anything smaller is stored.
	if nkey == 0 || nkey > binproto.MaxKeyLen || value < 0 ||
		itemSize(nkey, int(value), 1) <= int64(bc.s.cfg.MaxItemSize) {
		return
	}
	b, err := bc.br.Peek(binproto.HeaderLen + ext + nkey)
	if err != nil {
		return
	}
	bc.setKey = append(bc.setKey, b[binproto.HeaderLen+ext:]...)
}

// flush writes the queued replies.
func (bc *binConn) flush() error {
	if len(bc.out) == 0 {
		return nil
	}
	_, err := bc.c.Write(bc.out)
	bc.out = bc.out[:0]
	if cap(bc.out) > maxKeptBuf {
		bc.out = make([]byte, 0, connBufSize)
	}
	return err
}

func (bc *binConn) trimIn() {
	if cap(bc.in) > maxKeptBuf {
		bc.in = nil
	}
}
