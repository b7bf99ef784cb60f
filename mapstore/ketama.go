package mapstore

import (
	"cmp"
	"crypto/md5"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
)

// Ketama continuum, as libmemcached 1.x builds it in update_continuum
// (libmemcached/hosts.cc). Every detail below is observable as "which server
// owns this key", so none of it is a free choice:
//
//   - Points are hashed from "<host>-<i>" when the port is 11211 and from
//     "<host>:<port>-<i>" otherwise, i counting from 0. Host is the string as
//     configured, never resolved.
//   - Weighted: each md5 of a point string yields 4 points (little-endian
//     words 0..3 of the digest); the per-server point count goes through
//     float32 arithmetic (see weightedPoints).
//   - Unweighted (moxi distribution:ketama): 100 points per server, one point
//     per string. libmemcached 1.x would hash the point strings and keys with
//     its default one_at_a_time here; moxi's libmemcached 0.3x copy set MD5 as
//     the hash for both ketama modes, and moxi is what we replace, so we use
//     MD5 (= libmemcached with MEMCACHED_BEHAVIOR_HASH set to MD5).
//   - The ring is sorted by point; equal points keep server order (glibc's
//     qsort is a stable merge sort for arrays this size), so ties go to the
//     lower server index.
//   - Lookup takes the first point >= md5(key), wrapping to the first point.

const (
	// pointsPerServerWeighted is MEMCACHED_POINTS_PER_SERVER_KETAMA.
	pointsPerServerWeighted = 160
	// pointsPerServer is MEMCACHED_POINTS_PER_SERVER (unweighted ketama).
	pointsPerServer = 100
	// defaultPort is MEMCACHED_DEFAULT_PORT, left out of point strings.
	defaultPort = 11211
)

// point is one entry of the continuum. 8 bytes, so the binary search walks
// a dense array.
type point struct {
	point uint32
	idx   uint32
}

// ketamaRing is the sorted continuum; its locate method is Map.locate.
type ketamaRing struct {
	points []point
	// start[b] is the index of the first point whose top ringIndexBits
	// bits are >= b, for b up to 1<<ringIndexBits (then len(points)), so
	// a lookup searches only its hash's slice of the ring: a few points
	// instead of a binary search over hundreds.
	start []uint32
}

// ringIndexBits sizes ketamaRing.start: 1024 slices, about one per
// weighted-ketama point of a 6-server ring.
const ringIndexBits = 10

// locate returns the server owning key: the first point >= md5(key), or
// the first point of the ring when the hash is past the last one.
func (r *ketamaRing) locate(key []byte) int { return r.locateHash(HashMD5(key)) }

// locateHash is locate for a key's hash h.
func (r *ketamaRing) locateHash(h uint32) int {
	pts := r.points
	b := h >> (32 - ringIndexBits)
	lo, hi := int(r.start[b]), int(r.start[b+1])
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if pts[mid].point < h {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == len(pts) {
		lo = 0
	}
	return int(pts[lo].idx)
}

// effectiveWeight is the weight libmemcached uses: an unset (0) weight
// counts as 1.
func effectiveWeight(s Server) uint64 {
	if s.Weight <= 0 {
		return 1
	}
	return uint64(s.Weight)
}

// weightedPoints is libmemcached's per-server point count under weighted
// ketama:
//
//	float pct = (float)weight / (float)total_weight;
//	floor((float)(pct * 160 / 4 * (float)live_servers + 0.0000000001)) * 4
//
// The product is evaluated in float32 (x86-64 SSE, FLT_EVAL_METHOD 0), and
// the 1e-10 is added in double but rounded straight back to float, so it
// cannot rescue a product like 39.999996. That is why 25 equal servers get
// 156 points each, not 160. Each step is converted explicitly so the Go
// compiler may not fuse or widen them.
func weightedPoints(weight, total uint64, n int) int {
	pct := float32(weight) / float32(total)
	f := float32(pct * pointsPerServerWeighted)
	f = float32(f / 4)
	f = float32(f * float32(n))
	g := float32(float64(f) + 0.0000000001)
	return int(math.Floor(float64(g))) * 4
}

// pointKey appends the libmemcached point string for server s, repetition
// i, to dst.
func pointKey(dst []byte, s Server, i int) []byte {
	dst = append(dst, s.Host...)
	if s.Port != defaultPort {
		dst = append(dst, ':')
		dst = strconv.AppendInt(dst, int64(s.Port), 10)
	}
	dst = append(dst, '-')
	return strconv.AppendInt(dst, int64(i), 10)
}

// newKetamaRing builds the continuum for servers. weighted selects
// libmemcached's KETAMA_WEIGHTED; otherwise moxi's unweighted ketama.
func newKetamaRing(servers []Server, weighted bool) *ketamaRing {
	var total uint64
	for _, s := range servers {
		total += effectiveWeight(s)
	}
	n := len(servers)
	pts := make([]point, 0, n*pointsPerServerWeighted)
	buf := make([]byte, 0, 64)
	for idx, s := range servers {
		if !weighted {
			for i := range pointsPerServer {
				buf = pointKey(buf[:0], s, i)
				pts = append(pts, point{HashMD5(buf), uint32(idx)})
			}
			continue
		}
		per := weightedPoints(effectiveWeight(s), total, n)
		for i := range per / 4 {
			buf = pointKey(buf[:0], s, i)
			d := md5.Sum(buf)
			for w := range 4 {
				p := binary.LittleEndian.Uint32(d[4*w:])
				pts = append(pts, point{p, uint32(idx)})
			}
		}
	}
	// Stable by construction: points are appended in server order, and the
	// comparison falls back to the index anyway.
	slices.SortFunc(pts, func(a, b point) int {
		if c := cmp.Compare(a.point, b.point); c != 0 {
			return c
		}
		return cmp.Compare(a.idx, b.idx)
	})
	return &ketamaRing{points: slices.Clip(pts), start: ringStarts(pts)}
}

// ringStarts builds ketamaRing.start for sorted points.
func ringStarts(pts []point) []uint32 {
	start := make([]uint32, 1<<ringIndexBits+1)
	i := 0
	for b := range start {
		for i < len(pts) && uint64(pts[i].point)>>(32-ringIndexBits) < uint64(b) {
			i++
		}
		start[b] = uint32(i)
	}
	return start
}
