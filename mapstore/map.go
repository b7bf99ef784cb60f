package mapstore

// Distribution names how a server-list map places keys on servers.
type Distribution uint8

const (
	// KetamaWeighted is libmemcached's MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA
	// with weighting on (moxi's default for host lists).
	KetamaWeighted Distribution = iota
	// Ketama is moxi's unweighted ketama: 100 points per server, MD5 for
	// keys and points (libmemcached 1.x CONSISTENT_KETAMA with
	// MEMCACHED_HASH_MD5, as moxi's libmemcached 0.3x copy set it).
	// Server weights are ignored.
	Ketama
	// Modula is hash(key) % len(servers) with libmemcached's default
	// one-at-a-time hash.
	Modula
)

// String returns the name used in -Z mcs_opts=distribution:NAME.
func (d Distribution) String() string {
	switch d {
	case Ketama:
		return "ketama"
	case Modula:
		return "modula"
	default:
		return "ketama-weighted"
	}
}

// Server is one downstream memcached server as written in the config.
type Server struct {
	Host   string // exactly as configured; never resolved for hashing
	Port   int
	Weight int // 0 when not given
}

// Map is an immutable routing map. It is safe for concurrent use.
type Map struct {
	Version uint64
	Source  string // the config text it was built from, for stats proxy config
	Servers []Server
	Dist    Distribution
	locate  func(key []byte) int
}

// NewServerListMap builds a map over servers with the given distribution.
// It fails when servers is empty.
func NewServerListMap(servers []Server, dist Distribution) (*Map, error) {
	return newServerListMap(servers, dist)
}

// Locate returns the index in m.Servers of the server that owns key.
func (m *Map) Locate(key []byte) int { return m.locate(key) }
