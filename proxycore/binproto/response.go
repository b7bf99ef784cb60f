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
