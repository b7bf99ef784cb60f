package mapstore

import "slices"

// SameLayout reports whether a and b route every key alike and reach the
// servers alike: the same servers in the same order and weights, the
// same distribution, bucket name and credentials, the same vBucket table
// (masters, replicas and forward map) and the same node addresses. What
// a config also carries but routing ignores (uptime, memory and item
// counts, which REST server answered) does not count, so that a stream
// that re-sends the layout it had does not make a new map version.
func SameLayout(a, b *Map) bool {
	if a.Dist != b.Dist || a.Name != b.Name || a.User != b.User ||
		a.Password != b.Password || a.HasPassword != b.HasPassword ||
		!slices.Equal(a.Servers, b.Servers) {
		return false
	}
	if (a.vb == nil) != (b.vb == nil) || (a.vb != nil && !a.vb.equal(b.vb)) {
		return false
	}
	for i := range a.Servers {
		x, y := a.Node(i), b.Node(i)
		if x.RESTAuthority != y.RESTAuthority || x.CouchAPIBase != y.CouchAPIBase || x.Status != y.Status {
			return false
		}
	}
	return true
}

// SameLayouts is SameLayout over two configs' buckets, matched by name.
func SameLayouts(a, b []*Map) bool {
	if len(a) != len(b) {
		return false
	}
	byName := make(map[string]*Map, len(b))
	for _, m := range b {
		byName[m.Name] = m
	}
	for _, m := range a {
		o, ok := byName[m.Name]
		if !ok || !SameLayout(m, o) {
			return false
		}
	}
	return true
}

func (t *vbTable) equal(o *vbTable) bool {
	return t.mask == o.mask && t.stride == o.stride &&
		slices.Equal(t.rows, o.rows) && slices.Equal(t.forward, o.forward)
}
