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
	// VBucket is a membase/couchbase vBucket map: CRC32 of the key picks a
	// vBucket, the bucket config names its master. Only ParseBucket builds
	// such maps; NewServerListMap rejects it.
	VBucket
)

// String returns the name used in -Z mcs_opts=distribution:NAME.
func (d Distribution) String() string {
	switch d {
	case Ketama:
		return "ketama"
	case Modula:
		return "modula"
	case VBucket:
		return "vbucket"
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

// Map is an immutable routing map. It is safe for concurrent use; callers
// must not modify it (Servers included) once it is shared. Set Version, if
// at all, before publishing it, or use WithVersion.
type Map struct {
	Version uint64
	Source  string // the config text it was built from, for stats proxy config
	Servers []Server
	Dist    Distribution

	// Name is the bucket's name: the "name" of a JSON bucket config, or
	// "default" when it has none (moxi's rule); "" for maps built from a
	// -z host list.
	Name string
	// User is the SASL user for the servers: the bucket name, except that
	// the bucket "default" has none ("") - libvbucket's rule. Callers that
	// want moxi's fallback (the pool's -Z usr) apply it themselves.
	User string
	// Password is the bucket's saslPassword ("" when absent).
	Password string
	// HasPassword reports that the config carried a saslPassword string,
	// even an empty one; moxi uses -Z pwd when it did not.
	HasPassword bool

	locate func(key []byte) int
	ring   *ketamaRing // the continuum of a ketama map of two or more servers; nil otherwise
	vb     *vbTable    // nil unless Dist == VBucket
	nodes  []NodeInfo  // nil, or one per server, from the config's nodes[]
}

// NewServerListMap builds a map over servers with the given distribution.
// It fails when servers is empty.
func NewServerListMap(servers []Server, dist Distribution) (*Map, error) {
	return newServerListMap(servers, dist)
}

// Locate returns the index in m.Servers of the server that owns key. For a
// vBucket map it is Master(VBucketOf(key)), which is -1 while the config
// names no master for that vBucket: callers must handle -1.
func (m *Map) Locate(key []byte) int { return m.locate(key) }
