package binproto

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
)

// ErrBadResponse means a server sent bytes that are not a well-formed
// response; the connection cannot stay in step and must be closed.
var ErrBadResponse = errors.New("binproto: malformed response")

// MaxResponseBody caps a response body; moxi closed connections whose
// bodies claimed more than 21 MiB.
const MaxResponseBody = 21 << 20

// ReadResponse reads one response from br, appending header and body to
// dst. It returns the grown buffer, the offset where the packet starts
// and the decoded packet, whose slices point into the returned buffer.
// On an error the buffer comes back with dst's length (its capacity kept
// for reuse); an error wrapping ErrBadResponse means the bytes read were
// not a response, io.EOF that the stream ended cleanly before one and
// io.ErrUnexpectedEOF that it ended inside one.
func ReadResponse(br *bufio.Reader, dst []byte, p *Packet) ([]byte, int, error) {
	start := len(dst)
	p.Extras, p.Key, p.Value = nil, nil, nil
	// The header is read, not peeked, so that a bufio.Reader smaller than
	// a header works too.
	dst = slices.Grow(dst, HeaderLen)[:start+HeaderLen]
	if _, err := io.ReadFull(br, dst[start:]); err != nil {
		p.Header = Header{}
		return dst[:start], start, err
	}
	p.Decode(dst[start:])
	if err := checkResponse(&p.Header); err != nil {
		return dst[:start], start, err
	}
	dst, err := readBody(br, dst, int(p.BodyLen)) // at most MaxResponseBody
	if err != nil {
		return dst[:start], start, err
	}
	p.split(dst[start+HeaderLen:])
	return dst, start, nil
}

// checkResponse refuses a header that cannot start a response: the wrong
// magic, key and extras that do not fit the body, or a body too large to
// buffer.
func checkResponse(h *Header) error {
	switch {
	case h.Magic != MagicResponse:
		return fmt.Errorf("magic 0x%02x: %w", h.Magic, ErrBadResponse)
	case uint32(h.KeyLen)+uint32(h.ExtLen) > h.BodyLen:
		return fmt.Errorf("key %d and extras %d longer than body %d: %w",
			h.KeyLen, h.ExtLen, h.BodyLen, ErrBadResponse)
	case h.BodyLen > MaxResponseBody:
		return fmt.Errorf("body of %d bytes: %w", h.BodyLen, ErrBadResponse)
	}
	return nil
}

// PeekResponse decodes the next response from br without copying it,
// when the whole packet fits in br's buffer: p's slices then point into
// that buffer, valid until the next read from br, and the caller must
// br.Discard(n) once done with them. When the packet is larger than the
// buffer, ok is false and nothing is consumed: read it with ReadResponse.
// Errors are ReadResponse's; after one the stream is out of step.
func PeekResponse(br *bufio.Reader, p *Packet) (n int, ok bool, err error) {
	p.Extras, p.Key, p.Value = nil, nil, nil
	if br.Size() < HeaderLen {
		return 0, false, nil
	}
	hdr, err := br.Peek(HeaderLen)
	if err != nil {
		p.Header = Header{}
		return 0, false, peekEOF(len(hdr), err)
	}
	p.Decode(hdr)
	if err := checkResponse(&p.Header); err != nil {
		return 0, false, err
	}
	n = HeaderLen + int(p.BodyLen)
	if n > br.Size() {
		return 0, false, nil
	}
	pkt, err := br.Peek(n)
	if err != nil {
		return 0, false, peekEOF(len(pkt), err)
	}
	p.split(pkt[HeaderLen:])
	return n, true, nil
}

// peekEOF turns a Peek that came up short into io.ReadFull's errors: EOF
// only when nothing at all had arrived.
func peekEOF(got int, err error) error {
	if err == io.EOF && got > 0 {
		return io.ErrUnexpectedEOF
	}
	return err
}
