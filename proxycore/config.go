package proxycore

import (
	"log/slog"

	"github.com/moxifleet/moxi/mapstore"
)

// MapSource supplies the current routing map of one bucket. Current is
// called on the request path and must not block.
type MapSource interface {
	Current() *mapstore.Map
}

// StaticMap is a MapSource that always returns the same map.
type StaticMap struct{ M *mapstore.Map }

// Current returns the map.
func (s StaticMap) Current() *mapstore.Map { return s.M }

// Bucket is one proxied bucket: a client-facing port and its routing.
type Bucket struct {
	Port     int    // client-facing port, also the stats prefix "<port>:<name>:"
	Name     string // "default" for static configs
	Behavior Behavior
	Maps     MapSource
	// REST marks a bucket a REST server configures: SASL clients select
	// it with its name and its map's saslPassword (not -Z usr and pwd),
	// and under a vBucket map a get whose server failed ends with moxi's
	// SERVER_ERROR line instead of reading as a miss (moxi masked get
	// errors as END only when the nodeLocator was not "vbucket").
	REST bool
}

// Pool is a port whose buckets a config stream names and renames as it
// goes (a saslBucketsStreaming URL): they are created, updated and shut
// down through Server.ApplyPool, and SASL clients pick among them.
type Pool struct {
	Port     int
	Behavior Behavior // every bucket of the pool starts from it
}

// Config configures the proxy for the whole process.
type Config struct {
	Version     string // reply to "version"
	MaxItemSize int    // -I
	Protocol    string // -B: "auto", "ascii" or "binary"
	Threads     int    // -t, reported in stats
	// MaxConns caps client connections (-c); 0 leaves them uncapped.
	MaxConns int
	ConfType string // "static" or "dynamic", for stats proxy info
	// Settings are the memcached:settings:* pairs of stats proxy settings,
	// in order, as the node computed them from its flags.
	Settings [][2]string
	Buckets  []Bucket
	Pools    []Pool
	// NamedDefaultBucket makes clients start on the bucket whose SASL user
	// is DefaultBucketName with no password, or on the NULL bucket when
	// there is none (moxi's default_bucket_name). Otherwise a client starts
	// on the first bucket configured on its listener's port.
	NamedDefaultBucket bool
	DefaultBucketName  string
}

// Deps are the collaborators the proxy is given.
type Deps struct {
	Logger *slog.Logger
	// Level is the logger's level, changed by the "verbosity" command.
	Level *slog.LevelVar
	// OnDrop, when set, hears every key the front cache of bucket (port,
	// name) dropped because a command through this proxy changed it (an
	// empty key: everything, flush_all), so that a fleet can drop it on
	// its other nodes (DropShared). Called on the request path: it must
	// not block.
	OnDrop func(port int, bucket string, key []byte)
}
