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
//
// Memory stays near max whatever the server sends: write checks a chunk
// before appending it, so the buffer never holds more than max bytes of an
// unterminated message, the start of its delimiter and one write; the
// buffer grows to that bound without append's run of small steps, each a
// copy; and a message filling the buffer is handed to the caller rather
// than copied.
type framer struct {
	// buf is the framer's alone: next copies what it hands out, or hands
	// out the whole array and starts a new one, so bytes in buf can be
	// moved without disturbing a message the caller kept.
	buf  []byte
	off  int // buf[:off] is taken; next resumes at off
	open int // start of the unterminated message: buf[off:open] is complete messages
	max  int
	hint int // capacity for a fresh buffer, from the last message handed out
}

// write appends p, failing, with nothing appended, once a message would
// exceed max bytes. Each byte is scanned once here (and a complete message
// once more by next), so a long message costs linear time however it is
// split into writes.
func (f *framer) write(p []byte) error {
	unterminated, err := f.frame(p)
	if err != nil {
		return err
	}
	f.reserve(len(p))
	f.buf = append(f.buf, p...)
	f.open = len(f.buf) - unterminated
	return nil
}

// frame returns how long the unterminated message will be once p is
// appended (a length, since reserve may move the message). It reads p in
// place, since a chunk that is refused must not grow the buffer, and looks
// no further in p than the delimiter ending the current message may start:
// bytes beyond that are too many anyway.
func (f *framer) frame(p []byte) (int, error) {
	open, from := f.open, 0 // from: where in p the scan resumes
	if d, ok := f.seam(p); ok {
		if d-open > f.max {
			return 0, f.tooLarge()
		}
		open = d + len(delimiter)
		from = open - len(f.buf)
	}
	for {
		end := max(from, min(len(p), open+f.max+len(delimiter)-len(f.buf)))
		i := bytes.Index(p[from:end], delimiter)
		if i < 0 {
			break
		}
		open = len(f.buf) + from + i + len(delimiter)
		from = open - len(f.buf)
	}
	if excess := len(f.buf) + len(p) - open - f.max; excess > 0 && excess > f.partial(open, p) {
		return 0, f.tooLarge()
	}
	return len(f.buf) + len(p) - open, nil
}

// tooLarge is the error of a message past max, which marks the source bad.
func (f *framer) tooLarge() error {
	return fmt.Errorf("more than %d bytes without a delimiter: %w", f.max, errConfigTooLarge)
}

// seam finds a delimiter that starts in the last bytes of buf and ends in
// p, returning the index in buf of its first byte. Earlier bytes of the
// open message were scanned by earlier writes.
func (f *framer) seam(p []byte) (int, bool) {
	for k := max(f.open, len(f.buf)-len(delimiter)+1); k < len(f.buf); k++ {
		head := f.buf[k:]
		if bytes.HasPrefix(delimiter, head) && bytes.HasPrefix(p, delimiter[len(head):]) {
			return k, true
		}
	}
	return 0, false
}

// partial counts the bytes ending the unterminated message, buf[open:]
// followed by p, that could begin a delimiter: the next write decides
// whether they belong to the message, so a message of exactly max bytes
// passes however its delimiter is split.
func (f *framer) partial(open int, p []byte) int {
	n := min(len(delimiter)-1, len(f.buf)+len(p)-open)
	tail := p[max(0, len(p)-n):]
	if len(tail) < n { // p is shorter than a delimiter; the rest is in buf
		tail = append(bytes.Clone(f.buf[len(f.buf)-(n-len(tail)):]), tail...)
	}
	for k := n; k > 0; k-- {
		if bytes.Equal(tail[n-k:], delimiter[:k]) {
			return k
		}
	}
	return 0
}

// reserve makes room to append n bytes. It first drops taken bytes by
// sliding the rest down, which copies each byte at most once per message
// taken; only when that is not enough does it allocate.
func (f *framer) reserve(n int) {
	if len(f.buf)+n <= cap(f.buf) {
		return
	}
	rest := f.buf[f.off:]
	if need := len(rest) + n; need > cap(f.buf) {
		f.buf = append(make([]byte, 0, f.capFor(need, n)), rest...)
	} else {
		f.buf = f.buf[:copy(f.buf, rest)]
	}
	f.open -= f.off
	f.off = 0
}

// capFor picks the capacity of a new buffer that must hold need bytes for
// a write of n. Since write refuses an unterminated message past max (but
// for the start of its delimiter), no buffer needs more than
// max+len(delimiter)+n, unless the caller left complete messages untaken.
// Doubling up to that bound could allocate almost twice the bound on the
// way, so once doubling passes a third of it the buffer goes straight to
// the bound: the smaller buffers then total under two thirds of it, and a
// message of any size costs less than twice max in all.
func (f *framer) capFor(need, n int) int {
	limit := max(need, f.max+len(delimiter)+n)
	if f.hint >= need {
		return min(f.hint, limit)
	}
	c := max(need, 2*cap(f.buf))
	if c > limit/3 {
		return limit
	}
	return c
}

// next returns the next complete message, trimmed of whitespace, skipping
// messages that trim to nothing (extra newlines around a delimiter). The
// returned slice is the caller's to keep.
func (f *framer) next() ([]byte, bool) {
	for f.off < f.open {
		// write saw buf[off:open] end in a delimiter, so Index finds one.
		end := f.off + bytes.Index(f.buf[f.off:f.open], delimiter)
		msg := bytes.TrimSpace(f.buf[f.off:end])
		f.off = end + len(delimiter)
		if len(msg) > 0 {
			return f.keep(msg), true
		}
	}
	return nil, false
}

// remainder returns the trimmed bytes after the last delimiter and empties
// the framer; it is called once the stream has ended.
func (f *framer) remainder() []byte {
	msg := bytes.TrimSpace(f.buf[f.off:])
	f.off = len(f.buf)
	var rest []byte
	if len(msg) > 0 {
		rest = f.keep(msg) // a one-shot URL's whole answer may be near max
	}
	f.buf, f.off, f.open = f.buf[:0], 0, 0
	return rest
}

// keep turns msg, a slice of buf[:off], into memory the caller may keep.
// A message filling at least half the buffer gets the buffer itself, and
// the few bytes after it move to a fresh one, so a config near max is never
// held twice; a smaller one is copied and the buffer is reused. The next
// buffer is sized for a message like this one plus a quarter, room for it
// to grow a little and for the read that completes it, so a steady stream
// of large configs costs one allocation each rather than a run of
// doublings.
func (f *framer) keep(msg []byte) []byte {
	if 2*len(msg) < cap(f.buf) {
		return bytes.Clone(msg)
	}
	f.hint = len(msg) + len(msg)/4
	f.buf = bytes.Clone(f.buf[f.off:])
	f.open -= f.off
	f.off = 0
	return msg[:len(msg):len(msg)]
}
