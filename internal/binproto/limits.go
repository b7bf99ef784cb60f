package binproto

// DefaultMaxItemSize is memcached's default item size limit (-I 1m).
const DefaultMaxItemSize = 1 << 20

// maxHead is the most extras and key memcached 1.6.18 can take: it wants
// the header, extras and key in its 16 KiB read buffer before it looks at
// them, and when they cannot fit it fills the buffer and then closes the
// connection without a reply.
const maxHead = 16384 - HeaderLen

// Sizes memcached's item_size_ok adds to the value on a 64-bit build with
// CAS enabled (the default): the item struct, the key's NUL, the value's
// CRLF, the CAS and, when the flags are not zero, the flags.
const (
	itemStructLen = 48
	itemCASLen    = 8
	itemFlagsLen  = 4
)

// maxSASLMech is memcached's MAX_SASL_MECH_LEN: a longer mechanism name
// (the key of a SASL request) is refused with EINVAL.
const maxSASLMech = 32

// slabChunkMax is memcached's default slab_chunk_max. memcached -S cannot
// put SASL data in an item larger than that (a chunked item) and answers
// "Out of memory". It cannot exceed -I, so below 1 MiB it must be set; we
// assume half of -I then.
const slabChunkMax = 512 << 10

// negativeLen is where memcached's int conversions of a uint32 length turn
// negative: a value or swallow count at or above it is neither allocated
// nor swallowed.
const negativeLen = 1 << 31

// itemTooLarge reports whether memcached refuses to allocate an item for
// a value of this length, answering E2BIG. The threshold is exact: it was
// measured on memcached 1.6.18 (see TestDifferentialMemcached).
func itemTooLarge(value, key, flags uint32, maxItemSize int) bool {
	if value >= negativeLen {
		return true
	}
	size := uint64(itemStructLen) + uint64(key) + 1 + uint64(value) + 2 + itemCASLen
	if flags != 0 {
		size += itemFlagsLen
	}
	return size > uint64(maxItemSize)
}
