package mapstore

// Diff is libvbucket's vbucket_compare result. moxi swaps a new map into a
// live downstream, keeping its connections, only when SequenceChanged is
// false; otherwise it rebuilds the downstream.
type Diff struct {
	ServersAdded   []string // "host:port" in to but not in from, in to's order
	ServersRemoved []string // "host:port" in from but not in to, in from's order
	// SequenceChanged: the server lists differ in length or at some
	// position (a weight change counts: it moves keys), or the credentials
	// (User, Password, HasPassword) differ.
	SequenceChanged bool
	// VBucketChanges counts vBuckets whose master differs; -1 when the
	// vBucket counts differ. Maps that are not vBucket maps have none.
	VBucketChanges int
}

// Compare returns what changed from from to to (both non-nil). Servers are
// compared by their "host:port" (Server.String).
func Compare(from, to *Map) Diff {
	d := Diff{
		ServersAdded:   missingFrom(to.Servers, from.Servers),
		ServersRemoved: missingFrom(from.Servers, to.Servers),
	}
	d.SequenceChanged = len(from.Servers) != len(to.Servers) ||
		from.User != to.User || from.Password != to.Password ||
		from.HasPassword != to.HasPassword
	for i := 0; !d.SequenceChanged && i < len(from.Servers); i++ {
		d.SequenceChanged = from.Servers[i] != to.Servers[i]
	}
	n := from.NumVBuckets()
	if n != to.NumVBuckets() {
		d.VBucketChanges = -1
		return d
	}
	for vb := range n {
		if from.Master(uint16(vb)) != to.Master(uint16(vb)) {
			d.VBucketChanges++
		}
	}
	return d
}

// missingFrom returns the authorities of servers in a that are not in b.
func missingFrom(a, b []Server) []string {
	var out []string
	for _, s := range a {
		found := false
		for _, t := range b {
			if s.Host == t.Host && s.Port == t.Port {
				found = true
				break
			}
		}
		if !found {
			out = append(out, s.String())
		}
	}
	return out
}
