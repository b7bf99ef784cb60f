package restconfig

import (
	"bytes"
	"fmt"
)

// delimiter ends each config in an ns_server stream. ns_server writes it as
// its own chunk, but after de-chunking and TCP it can land anywhere in a
// read, so the framer scans the byte stream for it.
var delimiter = []byte("\n\n\n\n")

// framer splits a de-chunked stream into messages at every delimiter. Bytes
// are appended with write; complete messages are taken with next; whatever
// follows the last delimiter is left for remainder when the stream ends.
type framer struct {
	buf     []byte
	scanned int // buf[:scanned] holds no delimiter start; not rescanned
	max     int
}

// write appends p, failing once the unterminated message would exceed max
// bytes, which bounds memory whatever the server sends.
func (f *framer) write(p []byte) error {
	f.buf = append(f.buf, p...)
	if f.pending() > f.max {
		return fmt.Errorf("more than %d bytes without a delimiter: %w", f.max, errConfigTooLarge)
	}
	return nil
}

// pending is the length of the message still being assembled, that is the
// bytes before the first delimiter (or all bytes when there is none yet).
func (f *framer) pending() int {
	if i := bytes.Index(f.buf[f.scanned:], delimiter); i >= 0 {
		return f.scanned + i
	}
	return len(f.buf)
}

// next returns the next complete message, trimmed of whitespace, skipping
// messages that trim to nothing (extra newlines around a delimiter). The
// returned slice is a copy the caller may keep.
func (f *framer) next() ([]byte, bool) {
	for {
		i := bytes.Index(f.buf[f.scanned:], delimiter)
		if i < 0 {
			// A delimiter may start in the last len-1 bytes and end in
			// the next write, so only bytes before those are done.
			f.scanned = max(0, len(f.buf)-len(delimiter)+1)
			return nil, false
		}
		end := f.scanned + i
		msg := bytes.Clone(bytes.TrimSpace(f.buf[:end]))
		f.buf = f.buf[:copy(f.buf, f.buf[end+len(delimiter):])]
		f.scanned = 0
		if len(msg) > 0 {
			return msg, true
		}
	}
}

// remainder returns the trimmed bytes after the last delimiter and empties
// the framer; it is called once the stream has ended.
func (f *framer) remainder() []byte {
	rest := bytes.Clone(bytes.TrimSpace(f.buf))
	f.buf, f.scanned = f.buf[:0], 0
	return rest
}
