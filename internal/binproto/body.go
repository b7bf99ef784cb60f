package binproto

import (
	"io"
	"slices"
)

// growStep is the most readBody allocates ahead of the bytes that have
// arrived.
const growStep = 64 << 10

// readBody appends n bytes from r to buf. It grows buf as the bytes
// arrive instead of trusting n up front, so that a peer claiming a large
// body it never sends costs no more memory than it sent (plus growStep);
// a buffer already large enough is filled in one read. An EOF before n
// bytes comes back as io.ErrUnexpectedEOF, with buf holding what came.
func readBody(r io.Reader, buf []byte, n int) ([]byte, error) {
	want := len(buf) + n
	for len(buf) < want {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(want-len(buf), max(len(buf), growStep)))
		}
		m, err := io.ReadFull(r, buf[len(buf):min(want, cap(buf))])
		buf = buf[:len(buf)+m]
		if err != nil {
			return buf, unexpected(err)
		}
	}
	return buf, nil
}
