package proxycore

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
)

// errBadReply means the server sent bytes that are not a memcached reply;
// the connection cannot be trusted to stay in step and is closed.
var errBadReply = errors.New("proxycore: malformed reply from server")

var (
	lineEND = []byte("END\r\n")
	lineMN  = []byte("MN\r\n")
)

// readReply reads the reply to o from r into o.reply.
func readReply(r *bufio.Reader, o *op) error {
	switch o.kind {
	case replyLine:
		line, err := readLine(r)
		o.reply = append(o.reply, line...)
		return err
	case replyValues:
		return readValues(r, o)
	case replyStats:
		return readStats(r, o)
	case replyMeta:
		return readMeta(r, o)
	case replyMetaQuiet:
		return readMetaQuiet(r, o)
	}
	return fmt.Errorf("read reply kind %d: %w", o.kind, errBadReply)
}

// readLine returns the next line including its "\n". The slice is only
// valid until the next read from r.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("reply line over %d bytes: %w", r.Size(), errBadReply)
	}
	return line, err
}

// readValues reads VALUE blocks up to END, recording where each requested
// key's block sits in o.reply. memcached answers a get's hits in request
// order, so keys are matched by walking o.slots forward.
func readValues(r *bufio.Reader, o *op) error {
	cursor := 0
	for {
		line, key, n, done, err := nextValueLine(r)
		if done || err != nil {
			return err
		}
		if cursor, err = keepValueBlock(r, o, line, key, n, cursor); err != nil {
			return err
		}
	}
}

// nextValueLine reads the next line of a get's reply: a VALUE line with
// its key and data size, or done at END. An error line also ends the
// reply; the keys not yet answered read as misses.
func nextValueLine(r *bufio.Reader) (line, key []byte, n int, done bool, err error) {
	line, err = readLine(r)
	if err != nil {
		return nil, nil, 0, false, err
	}
	if bytes.Equal(line, lineEND) || !bytes.HasPrefix(line, []byte("VALUE ")) {
		return nil, nil, 0, true, nil
	}
	key, n, ok := parseValueLine(line)
	if !ok {
		return nil, nil, 0, false, fmt.Errorf("value line %q: %w", line, errBadReply)
	}
	return line, key, n, false, nil
}

// keepValueBlock appends a VALUE line and its n-byte data block to
// o.reply and records the block in the slot of o that asked for key,
// searching from cursor; it returns the cursor past the match.
func keepValueBlock(r *bufio.Reader, o *op, line, key []byte, n, cursor int) (int, error) {
	if n >= bigBlock {
		return keepBigBlock(r, o, line, key, n, cursor)
	}
	start := len(o.reply)
	o.reply = append(o.reply, line...)
	cursor = o.parent.matchSlot(o, cursor, key, start)
	if err := readBlock(r, o, n); err != nil {
		return cursor, err
	}
	o.parent.endSlot(o, cursor, len(o.reply))
	return cursor, nil
}

// keepBigBlock is keepValueBlock for a block read into a buffer of its
// own. The key is matched only once the block is read: line, and key in
// it, belong to r's buffer, which the read overwrites.
func keepBigBlock(r *bufio.Reader, o *op, line, key []byte, n, cursor int) (int, error) {
	block := o.parent.conn.srv.pools.blocks.get(len(line) + n + 2)
	block = block[:len(line)+n+2]
	head := copy(block, line)
	key = block[len("VALUE ") : len("VALUE ")+len(key)]
	if _, err := io.ReadFull(r, block[head:]); err != nil {
		return cursor, err
	}
	if !bytes.HasSuffix(block, []byte("\r\n")) {
		return cursor, fmt.Errorf("data block without CRLF: %w", errBadReply)
	}
	return o.parent.keepBig(o, cursor, key, block), nil
}

// readBlock appends a data block of n bytes and its "\r\n" to o.reply.
func readBlock(r *bufio.Reader, o *op, n int) error {
	start := len(o.reply)
	o.reply = slices.Grow(o.reply, n+2)[:start+n+2]
	if _, err := io.ReadFull(r, o.reply[start:]); err != nil {
		return err
	}
	if !bytes.HasSuffix(o.reply, []byte("\r\n")) {
		return fmt.Errorf("data block without CRLF: %w", errBadReply)
	}
	return nil
}

// parseValueLine splits "VALUE <key> <flags> <bytes>[ <cas>]\r\n".
func parseValueLine(line []byte) (key []byte, n int, ok bool) {
	rest := bytes.TrimRight(line[len("VALUE "):], "\r\n")
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return nil, 0, false
	}
	key, rest = rest[:sp], rest[sp+1:]
	sp = bytes.IndexByte(rest, ' ') // skip flags
	if sp < 0 {
		return nil, 0, false
	}
	rest = rest[sp+1:]
	if sp = bytes.IndexByte(rest, ' '); sp >= 0 {
		rest = rest[:sp] // drop cas
	}
	n, ok = atoi(rest)
	return key, n, ok
}

// atoi parses a non-negative decimal int without allocating.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func readStats(r *bufio.Reader, o *op) error {
	for {
		line, err := readLine(r)
		if err != nil {
			return err
		}
		o.reply = append(o.reply, line...)
		if !isStatsBodyLine(line) {
			return nil // END, or an error line
		}
	}
}

// readMeta reads one meta reply: a line, and the data block after "VA n".
func readMeta(r *bufio.Reader, o *op) error {
	line, err := readLine(r)
	if err != nil {
		return err
	}
	o.reply = append(o.reply, line...)
	if !bytes.HasPrefix(line, []byte("VA ")) {
		return nil
	}
	size := bytes.TrimRight(line[3:], "\r\n")
	if sp := bytes.IndexByte(size, ' '); sp >= 0 {
		size = size[:sp]
	}
	n, ok := atoi(size)
	if !ok {
		return fmt.Errorf("meta value line %q: %w", line, errBadReply)
	}
	return readBlock(r, o, n)
}

// readMetaQuiet reads whatever a quiet meta command answered, up to the MN
// of the "mn" the proxy sent after it. The MN itself is not kept.
func readMetaQuiet(r *bufio.Reader, o *op) error {
	for {
		line, err := r.Peek(4)
		if err == nil && bytes.Equal(line, lineMN) {
			_, err = r.Discard(4)
			return err
		}
		if err := readMeta(r, o); err != nil {
			return err
		}
	}
}

// isStatsBodyLine reports whether a stats reply goes on after line: STAT
// lines, and the ITEM and PREFIX lines of cachedump and detail dump.
func isStatsBodyLine(line []byte) bool {
	return bytes.HasPrefix(line, []byte("STAT ")) ||
		bytes.HasPrefix(line, []byte("ITEM ")) ||
		bytes.HasPrefix(line, []byte("PREFIX "))
}
