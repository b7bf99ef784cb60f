package ascii

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// DefaultMaxItemSize is memcached's default item size limit (-I 1m).
const DefaultMaxItemSize = 1 << 20

// MaxLineLength is the longest command line memcached 1.6.14+ waits for:
// once more than this many bytes have arrived without a "\n" it closes the
// connection, unless the line is a multi-get.
const MaxLineLength = 2048

// MaxMultiGetLineLength caps get/gets/gat/gats lines. memcached has no cap
// (it reallocates its read buffer without bound); the Reader closes the
// connection beyond this so one client cannot pin unbounded memory. It
// leaves room for 10,000 keys of 250 bytes and more.
const MaxMultiGetLineLength = 8 << 20

// maxKeyLength is memcached's KEY_MAX_LENGTH.
const maxKeyLength = 250

// Reader parses client commands from a buffered stream. It keeps no state
// between commands besides the stream itself; all buffers live in the
// Request, so one Reader may be used with several Requests.
type Reader struct {
	br          *bufio.Reader
	maxItemSize int
}

// NewReader returns a Reader over br. Values that do not fit an item of
// maxItemSize bytes (memcached -I; <= 0 means DefaultMaxItemSize) are
// refused with "SERVER_ERROR object too large for cache" and swallowed, as
// memcached does. Like memcached, the size test counts the item header, the
// key and the client flags, not just the value (see tooLarge).
func NewReader(br *bufio.Reader, maxItemSize int) *Reader {
	if maxItemSize <= 0 {
		maxItemSize = DefaultMaxItemSize
	}
	return &Reader{br: br, maxItemSize: maxItemSize}
}

// Next reads one command into req, reusing req's buffers. I/O errors are
// returned unchanged (io.EOF at a clean end, io.ErrUnexpectedEOF when the
// stream ends inside a line or a data block). Protocol errors are returned
// as *Error after the offending input has been consumed the way memcached
// 1.6 consumes it, so the caller can reply and go on reading unless
// Error.Close is set.
func (r *Reader) Next(req *Request) error {
	req.reset()
	line, err := r.readLine(req)
	if err != nil {
		return err
	}
	req.Line = line
	// memcached works on C strings: a NUL byte ends the command line and
	// whatever follows it on the line is ignored.
	if i := bytes.IndexByte(line, 0); i >= 0 {
		req.Line = line[:i]
	}
	req.tokenize()
	return r.dispatch(req)
}

// reset clears the fields of the previous command but keeps the capacity
// of every buffer.
func (req *Request) reset() {
	*req = Request{
		Tokens:  req.Tokens[:0],
		lineBuf: req.lineBuf,
		keyBuf:  req.keyBuf,
		dataBuf: req.dataBuf,
	}
}

// tokenize splits Line on runs of spaces into Tokens. Only ' ' separates
// tokens, as in memcached; tabs and "\r" stay inside tokens.
func (req *Request) tokenize() {
	line := req.Line
	for {
		for len(line) > 0 && line[0] == ' ' {
			line = line[1:]
		}
		if len(line) == 0 {
			return
		}
		end := bytes.IndexByte(line, ' ')
		if end < 0 {
			end = len(line)
		}
		req.Tokens = append(req.Tokens, line[:end:end])
		line = line[end:]
	}
}

// tail returns tokens[i:] capped at its length, so that an append by the
// caller copies rather than overwriting the tokens after it.
func tail(tokens [][]byte, i int) [][]byte {
	return tokens[i:len(tokens):len(tokens)]
}

// readLine copies the next line into req.lineBuf and returns it without its
// "\n" and one preceding "\r". The copy keeps Tokens and keys valid while a
// data block is read and the bufio buffer is refilled.
func (r *Reader) readLine(req *Request) ([]byte, error) {
	buf := req.lineBuf[:0]
	defer func() { req.lineBuf = buf }()
	for {
		chunk, err := r.buffered()
		if len(chunk) == 0 {
			if err == io.EOF && len(buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		i := bytes.IndexByte(chunk, '\n')
		if i < 0 {
			i = len(chunk)
		}
		buf = append(buf, chunk[:i]...)
		if lineTooLong(buf) {
			return nil, closeErr()
		}
		if i < len(chunk) {
			_, _ = r.br.Discard(i + 1) // cannot fail: the bytes are buffered
			return bytes.TrimSuffix(buf, []byte{'\r'}), nil
		}
		_, _ = r.br.Discard(i)
	}
}

// buffered returns every byte br holds, reading once if it holds none.
// Looking at what is buffered (rather than blocking for a full line) lets
// the length guard fire as soon as memcached's would.
func (r *Reader) buffered() ([]byte, error) {
	n := r.br.Buffered()
	if n == 0 {
		if _, err := r.br.Peek(1); err != nil {
			return nil, err
		}
		n = r.br.Buffered()
	}
	return r.br.Peek(n)
}

// lineTooLong applies memcached's guard to a (partial) line: more than
// MaxLineLength bytes are allowed only for a multi-get, which may start with
// up to 100 spaces. memcached exempts only "get " and "gets "; gat and gats
// are exempted too so that long gat key lists work through the proxy.
func lineTooLong(line []byte) bool {
	if len(line) <= MaxLineLength {
		return false
	}
	if len(line) > MaxMultiGetLineLength {
		return true
	}
	rest := bytes.TrimLeft(line, " ")
	if len(line)-len(rest) > 100 {
		return true
	}
	cmd, _, found := bytes.Cut(rest, []byte{' '})
	if !found {
		return true
	}
	switch string(cmd) {
	case "get", "gets", "gat", "gats":
		return false
	}
	return true
}

// readData reads an n-byte data block and its "\r\n" into req.Data.
func (r *Reader) readData(req *Request, n int) error {
	need := n + 2
	if cap(req.dataBuf) < need {
		req.dataBuf = make([]byte, need, max(need, 2*cap(req.dataBuf)))
	}
	buf := req.dataBuf[:need]
	if _, err := io.ReadFull(r.br, buf); err != nil {
		return unexpected(err)
	}
	if buf[n] != '\r' || buf[n+1] != '\n' {
		// memcached has consumed exactly n+2 bytes and goes on parsing
		// right after them; the item is not stored.
		if req.Op == OpMetaSet {
			return metaErr(replyBadDataChunk)
		}
		return protoErr(req, replyBadDataChunk)
	}
	req.Data = buf[:n]
	return nil
}

// swallow discards an n-byte data block and the two bytes after it, as
// memcached's conn_swallow does after refusing a storage command.
func (r *Reader) swallow(n int) error {
	_, err := r.br.Discard(n + 2)
	return unexpected(err)
}

// unexpected turns io.EOF in the middle of a command into
// io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// tooLarge mirrors memcached's item_size_ok: the item needs a 48-byte
// header, 8 bytes of CAS, the key and its NUL, the value with its "\r\n",
// and 4 bytes for non-zero client flags.
func (r *Reader) tooLarge(nkey, nbytes int, flags uint32) bool {
	total := 48 + 8 + nkey + 1 + nbytes + 2
	if flags != 0 {
		total += 4
	}
	return total > r.maxItemSize
}
