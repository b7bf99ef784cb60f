package binproto

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Error is a request memcached refuses. Status and Message make the reply
// (for the request's opcode and opaque, with key, extras and CAS zero, as
// AppendError builds it); Close says memcached closes the connection after
// it. NoReply says it closes without any reply: a bad magic byte, or
// extras and key too long for memcached's read buffer.
type Error struct {
	Status  Status
	Close   bool
	NoReply bool
}

func (e *Error) Error() string {
	switch {
	case e.NoReply:
		return "binproto: malformed request, connection closed without a reply"
	case e.Close:
		return fmt.Sprintf("binproto: request refused with status 0x%04x (%s), connection closed",
			uint16(e.Status), e.Status.Message())
	}
	return fmt.Sprintf("binproto: request refused with status 0x%04x (%s)", uint16(e.Status), e.Status.Message())
}

// Reader reads requests from a client the way memcached 1.6.18, run
// without SASL, frames and checks them. It starts after protocol
// negotiation: memcached takes a connection whose first byte is not
// MagicRequest for an ASCII one, and that choice is the caller's.
type Reader struct {
	br          *bufio.Reader
	maxItemSize int
	opts        serveOpts
	hdr         [HeaderLen]byte
}

// NewReader returns a Reader over br. maxItemSize is memcached's item size
// limit (-I; <= 0 means DefaultMaxItemSize): a store whose item would not
// fit is refused with StatusTooBig and its value swallowed.
func NewReader(br *bufio.Reader, maxItemSize int) *Reader {
	if maxItemSize <= 0 {
		maxItemSize = DefaultMaxItemSize
	}
	return &Reader{br: br, maxItemSize: maxItemSize}
}

// ServeSASL makes r frame the SASL opcodes as memcached run with -S does,
// for a caller that authenticates clients itself, instead of refusing them
// as unknown: a mechanism (key) over 32 bytes gets StatusInvalid and a
// value too large for an unchunked item StatusNoMemory, both with the
// value swallowed and the connection kept. Whether a client must
// authenticate first is the caller's business.
func (r *Reader) ServeSASL() { r.opts.sasl = true }

// ServeVerbosity makes r pass VERBOSITY requests through, for a caller
// that answers them itself, instead of refusing them as unknown as
// memcached 1.6 does. They must have 4 bytes of extras and nothing else,
// the rule memcached had before it dropped the opcode; other lengths get
// StatusInvalid and close.
func (r *Reader) ServeVerbosity() { r.opts.verbosity = true }

// Next reads one request. Its header and body are appended to buf[:0]
// (the raw packet, ready to forward) and p's slices point into the
// returned buffer. Like memcached, Next reads a touch, gat or stat
// request's extras and key but not its value, which memcached parses as
// the next request; the returned packet's BodyLen (in p and in the buffer)
// then leaves the value out.
//
// On a protocol error the returned buffer is empty, p.Header is filled
// (to address the reply), p.Key is the request's key when it was read and the input has been consumed as memcached
// consumes it: when the error does not close, the next call reads where
// memcached reads next. I/O errors come back unchanged: io.EOF at a clean
// end, io.ErrUnexpectedEOF inside a packet.
func (r *Reader) Next(p *Packet, buf []byte) ([]byte, error) {
	buf = buf[:0]
	p.Extras, p.Key, p.Value = nil, nil, nil
	if _, err := io.ReadFull(r.br, r.hdr[:]); err != nil {
		p.Header = Header{}
		return buf, err
	}
	p.Decode(r.hdr[:])
	if p.Magic != MagicRequest {
		return buf, &Error{Close: true, NoReply: true}
	}
	head := int(p.ExtLen) + int(p.KeyLen)
	if head > maxHead {
		if _, err := r.br.Discard(maxHead); err != nil {
			return buf, unexpected(err)
		}
		return buf, &Error{Close: true, NoReply: true}
	}
	buf = append(buf, r.hdr[:]...)
	buf, err := readBody(r.br, buf, head)
	if err != nil {
		return buf[:0], err
	}
	if err := r.refuse(p, buf[HeaderLen:]); err != nil {
		// The key stays readable (in buf's array) for callers that act on
		// it: memcached unlinks the old item of a SET refused as too large.
		p.Key = buf[HeaderLen+int(p.ExtLen) : HeaderLen+head]
		return buf[:0], err
	}
	value := int(p.BodyLen - uint32(head)) // bounded by refuse
	if buf, err = readBody(r.br, buf, value); err != nil {
		return buf[:0], err
	}
	binary.BigEndian.PutUint32(buf[8:], p.BodyLen)
	p.split(buf[HeaderLen:])
	return buf, nil
}

// refuse applies memcached's checks to a request whose extras and key
// (head) have been read, swallowing what memcached swallows. For a request
// it serves it trims p.BodyLen when memcached leaves the value unread and
// returns nil.
func (r *Reader) refuse(p *Packet, head []byte) error {
	value := p.BodyLen - uint32(len(head))
	switch dispatch(&p.Header, r.opts) {
	case lengthsInvalid:
		return &Error{Status: StatusUnknownCommand, Close: true}
	case invalid:
		return &Error{Status: StatusInvalid, Close: true}
	case unknown:
		// memcached swallows the whole body after having read the
		// extras and key, so it eats that many bytes of what follows;
		// a SASL refusal swallows the body less the key.
		swallow := p.BodyLen
		if isSASL(p.Opcode) {
			swallow -= uint32(p.KeyLen)
		}
		return r.swallow(swallow, StatusUnknownCommand)
	}
	if ignoresValue(p.Opcode) {
		p.BodyLen -= value
		return nil
	}
	if p.Opcode == OpSASLAuth || p.Opcode == OpSASLStep {
		// process_bin_sasl_auth, served because of ServeSASL.
		if p.KeyLen > maxSASLMech {
			return r.swallow(value, StatusInvalid)
		}
		if itemTooLarge(value, uint32(p.KeyLen), 0, min(slabChunkMax, r.maxItemSize/2)) {
			return r.swallow(value, StatusNoMemory)
		}
	}
	if isStore(p.Opcode) {
		var flags uint32
		if len(head) >= 4 && p.ExtLen == 8 {
			flags = binary.BigEndian.Uint32(head)
		}
		if itemTooLarge(value, uint32(p.KeyLen), flags, r.maxItemSize) {
			return r.swallow(value, StatusTooBig)
		}
	}
	return nil
}

// swallow skips n bytes as memcached's conn_swallow does and returns the
// refusal; memcached passes n as an int, so from 2 GiB on it swallows
// nothing. If the input ends first, memcached closes without sending the
// refusal, so the I/O error is returned instead.
func (r *Reader) swallow(n uint32, s Status) error {
	if n < negativeLen {
		if _, err := r.br.Discard(int(n)); err != nil {
			return unexpected(err)
		}
	}
	return &Error{Status: s}
}

// unexpected turns an EOF inside a packet into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
