package main

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
)

// Keys are prefix + decimal id. A value is a version number (verDigits
// zero-padded decimal digits) followed by filler that depends only on the
// key id, so any get can check that the value belongs to its key. Each key
// is written by one client connection only (its owner), which therefore
// knows the current version of its own keys: reading one of them back
// proves that its earlier set reached the same server and was not
// overtaken, which a fixed value per key could never show.

const (
	alphabet  = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	verDigits = 10 // enough for any uint32
	// anyVersion marks a key whose current version is not known.
	anyVersion = ^uint32(0)
)

// keyspace knows how to name keys and what their values must be.
type keyspace struct {
	prefix  string
	size    int    // value length in bytes, >= verDigits
	pattern []byte // alphabet repeated; a value's filler is a window into it
}

func newKeyspace(prefix string, size int) *keyspace {
	p := make([]byte, len(alphabet)+size)
	for i := range p {
		p[i] = alphabet[i%len(alphabet)]
	}
	return &keyspace{prefix: prefix, size: size, pattern: p}
}

// filler is the part of key id's value after the version. The slice is
// shared and must not be modified.
func (k *keyspace) filler(id uint32) []byte {
	off := int(id % uint32(len(alphabet)))
	return k.pattern[off : off+k.size-verDigits]
}

// appendValue appends the value of key id at version ver.
func (k *keyspace) appendValue(b []byte, id, ver uint32) []byte {
	var d [verDigits]byte
	for i := verDigits - 1; i >= 0; i-- {
		d[i] = '0' + byte(ver%10)
		ver /= 10
	}
	return append(append(b, d[:]...), k.filler(id)...)
}

// checkValue returns the version held by v if v is a value of key id.
func (k *keyspace) checkValue(v []byte, id uint32) (uint32, bool) {
	if len(v) != k.size || !allDigits(v[:verDigits]) || !bytes.Equal(v[verDigits:], k.filler(id)) {
		return 0, false
	}
	var ver uint64
	for _, c := range v[:verDigits] {
		ver = ver*10 + uint64(c-'0')
	}
	return uint32(ver), ver < uint64(anyVersion)
}

func (k *keyspace) appendKey(b []byte, id uint32) []byte {
	b = append(b, k.prefix...)
	return strconv.AppendUint(b, uint64(id), 10)
}

// keyID parses a key produced by appendKey.
func (k *keyspace) keyID(key []byte) (uint32, bool) {
	if !bytes.HasPrefix(key, []byte(k.prefix)) {
		return 0, false
	}
	digits := key[len(k.prefix):]
	if len(digits) == 0 || len(digits) > 10 {
		return 0, false
	}
	var id uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		id = id*10 + uint64(c-'0')
	}
	if id > 1<<32-1 {
		return 0, false
	}
	return uint32(id), true
}

// appendGet appends "get k1 k2 ...\r\n".
func (k *keyspace) appendGet(b []byte, ids []uint32) []byte {
	b = append(b, "get"...)
	for _, id := range ids {
		b = append(b, ' ')
		b = k.appendKey(b, id)
	}
	return append(b, "\r\n"...)
}

// appendSet appends "set <key> 0 0 <n>\r\n<value>\r\n".
func (k *keyspace) appendSet(b []byte, id, ver uint32) []byte {
	b = append(b, "set "...)
	b = k.appendKey(b, id)
	b = append(b, " 0 0 "...)
	b = strconv.AppendInt(b, int64(k.size), 10)
	b = append(b, "\r\n"...)
	b = k.appendValue(b, id, ver)
	return append(b, "\r\n"...)
}

// replyError is a bad reply. A non-fatal one (an error reply, a wrong
// value) leaves the stream aligned, so the connection can go on; a fatal
// one (I/O error, unparsable line) means we no longer know where the next
// reply starts and the connection must be dropped.
type replyError struct {
	fatal bool
	msg   string
}

func (e *replyError) Error() string { return e.msg }

func fatalf(format string, a ...any) error {
	return &replyError{fatal: true, msg: fmt.Sprintf(format, a...)}
}

func softf(format string, a ...any) error {
	return &replyError{msg: fmt.Sprintf(format, a...)}
}

func isFatal(err error) bool {
	re, ok := err.(*replyError)
	return !ok || re.fatal
}

// isErrorReply reports whether line is one of memcached's error replies.
func isErrorReply(line []byte) bool {
	return bytes.HasPrefix(line, []byte("ERROR")) ||
		bytes.HasPrefix(line, []byte("CLIENT_ERROR ")) ||
		bytes.HasPrefix(line, []byte("SERVER_ERROR "))
}

// readStored reads the reply to a set.
func readStored(r *bufio.Reader) error {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return fatalf("read set reply: %v", err)
	}
	switch {
	case string(line) == "STORED\r\n":
		return nil
	case isErrorReply(line) || string(line) == "NOT_STORED\r\n":
		return softf("set: %q", line)
	default:
		return fatalf("set: unexpected reply %q", line)
	}
}

// parseValueLine parses "VALUE <key> <flags> <bytes>[ <cas>]\r\n". The
// returned key aliases line.
func parseValueLine(line []byte) (key []byte, n int, ok bool) {
	rest, found := bytes.CutPrefix(line, []byte("VALUE "))
	if !found {
		return nil, 0, false
	}
	rest, found = bytes.CutSuffix(rest, []byte("\r\n"))
	if !found {
		return nil, 0, false
	}
	key, rest, _ = bytes.Cut(rest, []byte(" "))
	flags, rest, _ := bytes.Cut(rest, []byte(" "))
	size, _, _ := bytes.Cut(rest, []byte(" ")) // an optional cas follows
	if len(key) == 0 || !allDigits(flags) || !allDigits(size) || len(size) > 9 {
		return nil, 0, false
	}
	for _, c := range size {
		n = n*10 + int(c-'0')
	}
	return key, n, true
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// indexOf finds id in want, trying position hint first: servers answer in
// request order, so this is O(1) per key in the common case, while still
// accepting proxies that merge sub-replies in another order.
func indexOf(want []uint32, id uint32, hint int) int {
	if hint < len(want) && want[hint] == id {
		return hint
	}
	for i, w := range want {
		if w == id {
			return i
		}
	}
	return -1
}

// readGet reads the reply to "get want...": any subset of the keys, each
// at most once and with a value of that key, then END. expect holds the
// version each key must have, or anyVersion; got is scratch; both are
// len(want). It returns the number of keys found. A non-fatal error is
// returned only after the whole reply has been consumed.
func readGet(r *bufio.Reader, ks *keyspace, want, expect []uint32, got []bool) (int, error) {
	clear(got)
	hits, hint := 0, 0
	var soft error
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return hits, fatalf("read get reply: %v", err)
		}
		if string(line) == "END\r\n" {
			return hits, soft
		}
		key, n, ok := parseValueLine(line)
		if !ok {
			if isErrorReply(line) {
				return hits, softf("get: %q", line)
			}
			return hits, fatalf("get: unexpected line %q", line)
		}
		// Parse the key before Peek: line aliases the reader's buffer.
		id, okID := ks.keyID(key)
		i := -1
		if okID {
			i = indexOf(want, id, hint)
		}
		if i < 0 || got[i] {
			soft = firstErr(soft, softf("get: unrequested or repeated key %q", key))
		}
		data, err := r.Peek(n + 2)
		if err != nil {
			return hits, fatalf("read value of %d bytes: %v", n, err)
		}
		if string(data[n:]) != "\r\n" {
			return hits, fatalf("value not terminated by CRLF")
		}
		if i >= 0 && !got[i] {
			got[i] = true
			hits++
			hint = i + 1
			soft = firstErr(soft, checkGot(ks, data[:n], id, expect[i]))
		}
		_, _ = r.Discard(n + 2) // cannot fail after a successful Peek
	}
}

// checkGot verifies the value returned for key id.
func checkGot(ks *keyspace, v []byte, id, expect uint32) error {
	ver, ok := ks.checkValue(v, id)
	switch {
	case !ok:
		return softf("get: wrong value for key id %d (%d bytes)", id, len(v))
	case expect != anyVersion && ver != expect:
		return softf("get: key id %d has version %d, its owner last set %d (set lost, misrouted or reordered)", id, ver, expect)
	}
	return nil
}

// firstErr keeps the first error.
func firstErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}
