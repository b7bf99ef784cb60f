package ascii

import "bufio"

// DefaultMaxItemSize is memcached's default item size limit (-I 1m).
const DefaultMaxItemSize = 1 << 20

// Reader parses client commands from a buffered stream.
type Reader struct {
	br          *bufio.Reader
	maxItemSize int
}

// NewReader returns a Reader over br. Values longer than maxItemSize are
// refused with "SERVER_ERROR object too large for cache" (and swallowed, as
// memcached does).
func NewReader(br *bufio.Reader, maxItemSize int) *Reader {
	return &Reader{br: br, maxItemSize: maxItemSize}
}

// Next reads one command into req, reusing req's buffers. I/O errors are
// returned unchanged (io.EOF at a clean end). Protocol errors are returned
// as *Error after the offending input has been consumed the way memcached
// 1.6 consumes it, so the caller can reply and go on reading unless
// Error.Close is set.
func (r *Reader) Next(req *Request) error {
	panic("ascii: Reader.Next not implemented yet")
}
