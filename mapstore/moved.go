package mapstore

import "math"

// MovedServers returns the "host:port" of every server whose share of
// keys differs between from and to: it lost keys to another server or
// gained keys another server held (servers that joined or left
// included). A front cache drops only those servers' entries on a new
// map; a map whose layout is unchanged moves nothing.
//
//   - vBucket maps: the servers of every vBucket whose master moved.
//   - ketama maps: the servers on either side of every stretch of the
//     hash ring whose owner changed, found by walking both rings' points
//     (between two consecutive points of either ring, both owners are
//     fixed).
//   - anything else that changed (modula over a new list, a change of
//     distribution or of vBucket count): every server of both.
func MovedServers(from, to *Map) []string {
	moved := map[string]bool{}
	switch {
	case from.IsVBucket() && to.IsVBucket() && from.NumVBuckets() == to.NumVBuckets():
		for vb := range from.NumVBuckets() {
			a, b := serverAt(from, from.Master(uint16(vb))), serverAt(to, to.Master(uint16(vb)))
			if a != b {
				moved[a], moved[b] = true, true
			}
		}
	case !from.IsVBucket() && !to.IsVBucket() && from.Dist == to.Dist && sameServers(from.Servers, to.Servers):
		// same list, same distribution: the same places
	case isRingOrSingle(from) && isRingOrSingle(to) && from.Dist == to.Dist:
		ringMoves(from, to, moved)
	default:
		for _, m := range []*Map{from, to} {
			for _, s := range m.Servers {
				moved[s.String()] = true
			}
		}
	}
	delete(moved, "")
	out := make([]string, 0, len(moved))
	for s := range moved {
		out = append(out, s)
	}
	return out
}

// serverAt is the authority of m's server i, "" for none (-1).
func serverAt(m *Map, i int) string {
	if i < 0 || i >= len(m.Servers) {
		return ""
	}
	return m.Servers[i].String()
}

func sameServers(a, b []Server) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// isRingOrSingle reports a ketama map, or a one-server map (which every
// distribution routes alike: all keys to its server).
func isRingOrSingle(m *Map) bool { return m.ring != nil || (!m.IsVBucket() && len(m.Servers) == 1) }

// ownerOf is the authority owning hash h on m's ring.
func ownerOf(m *Map, h uint32) string {
	if m.ring == nil {
		return serverAt(m, 0)
	}
	return serverAt(m, m.ring.locateHash(h))
}

// ringMoves marks the owners of every ring stretch that changed hands.
// Each point p of either ring ends a stretch (previous point, p] whose
// owners are those of p; past the last point the ring wraps.
func ringMoves(from, to *Map, moved map[string]bool) {
	check := func(h uint32) {
		if a, b := ownerOf(from, h), ownerOf(to, h); a != b {
			moved[a], moved[b] = true, true
		}
	}
	var last uint32
	for _, m := range []*Map{from, to} {
		if m.ring == nil {
			continue
		}
		for _, p := range m.ring.points {
			check(p.point)
			last = max(last, p.point)
		}
	}
	if last < math.MaxUint32 {
		check(last + 1) // the wrapped stretch after the last point
	}
	check(0)
}
