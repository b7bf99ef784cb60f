package proxycore

import (
	"math/bits"
	"sync"
)

// bigBlock is the size from which a VALUE block gets a buffer of its own.
// Appending megabyte values to one growing reply buffer copies it over
// and over and, while it grows, holds the old and the new copy at once:
// a 40 MB multi-get peaked above 100 MB. A block of its own is allocated
// once, from blockPool.
const bigBlock = 32 << 10

// blockClasses is how many size classes blockPool keeps: two per power of
// two (32K, 48K, 64K, 96K, ...) up to 64 MiB. Larger blocks are allocated
// at their size and left to the collector.
const blockClasses = 23

// blockPool recycles big VALUE blocks by size class, so that a client
// reading megabyte values leaves little garbage behind: without it, each
// finished 40 MB reply was 40 MB for the collector, and the heap stood at
// twice the live replies between collections.
type blockPool struct {
	classes [blockClasses]sync.Pool
}

// blockClass returns the class of a block of n bytes and its capacity;
// ok is false past the largest class.
func blockClass(n int) (class, size int, ok bool) {
	if n <= bigBlock {
		return 0, bigBlock, true
	}
	// The power of two at or above n, then the half step below it if n
	// fits there.
	shift := bits.Len(uint(n - 1))
	class = 2 * (shift - bits.Len(uint(bigBlock-1)))
	size = 1 << shift
	if half := size / 4 * 3; n <= half {
		class, size = class-1, half
	}
	return class, size, class < blockClasses
}

// get returns an empty buffer with room for n bytes.
func (p *blockPool) get(n int) []byte {
	class, size, ok := blockClass(n)
	if !ok {
		return make([]byte, 0, n)
	}
	if b, _ := p.classes[class].Get().([]byte); b != nil {
		return b[:0]
	}
	return make([]byte, 0, size)
}

// put returns b, which nothing may use any more, to its class.
func (p *blockPool) put(b []byte) {
	class, size, ok := blockClass(cap(b))
	if ok && size == cap(b) {
		p.classes[class].Put(b[:0]) //nolint:staticcheck // a slice header per megabyte block is fine
	}
}
