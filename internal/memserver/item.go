package memserver

import "unsafe"

// item is one cached key/value. Key and value share one allocation; the
// value slice is never written after the item is linked, so readers may use
// it after the store lock is released (incr, append and friends build a new
// buffer instead of editing in place).
type item struct {
	key   string // aliases buf[:klen]; see newItem
	value []byte // aliases buf[klen:]
	flags uint32
	exp   int64  // absolute unix seconds; 0 = never
	cas   uint64 // 0 until linked
	atime int64  // last access, unix seconds (mg l, me la)
	mtime int64  // when stored; a delayed flush_all drops older items

	fetched   bool // read since stored (mg h, me fetch)
	stale     bool // marked by md I / ms I (mg X)
	tokenSent bool // a client already won the recache token (mg Z)
	binKey    bool // key arrived base64 (meta b); echoed base64 again

	prev, next *item // LRU list, head = most recently used
}

// newItem copies key and value into one buffer so a store costs two
// allocations (struct and buffer) whatever the request buffers do later.
func newItem(key, value []byte) *item {
	buf := make([]byte, len(key)+len(value))
	copy(buf, key)
	copy(buf[len(key):], value)
	it := &item{value: buf[len(key):len(buf):len(buf)]}
	if len(key) > 0 {
		it.key = unsafe.String(&buf[0], len(key))
	}
	return it
}

// newItemConcat builds an item whose value is a followed by b (append and
// prepend).
func newItemConcat(key string, a, b []byte) *item {
	buf := make([]byte, len(key)+len(a)+len(b))
	n := copy(buf, key)
	n += copy(buf[n:], a)
	copy(buf[n:], b)
	it := &item{value: buf[len(key):len(buf):len(buf)]}
	if len(key) > 0 {
		it.key = unsafe.String(&buf[0], len(key))
	}
	return it
}

// Per-item accounting mirrors memcached's ITEM_ntotal so that "me ... size="
// and the -m limit agree with a real memcached: a 48-byte header, 8 bytes of
// CAS, the key with its NUL, the value with its "\r\n" and 4 bytes of client
// flags when they are non-zero.
const itemHeaderSize = 48 + 8

func itemSize(nkey, nval int, flags uint32) int64 {
	n := int64(itemHeaderSize + nkey + 1 + nval + 2)
	if flags != 0 {
		n += 4
	}
	return n
}

func (it *item) size() int64 { return itemSize(len(it.key), len(it.value), it.flags) }
