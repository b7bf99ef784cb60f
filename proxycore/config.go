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
}

// Config configures the proxy for the whole process.
type Config struct {
	Version     string // reply to "version"
	MaxItemSize int    // -I
	Protocol    string // -B: "auto", "ascii" or "binary"
	Threads     int    // -t, reported in stats
	ConfType    string // "static" or "dynamic", for stats proxy info
	// Settings are the memcached:settings:* pairs of stats proxy settings,
	// in order, as the node computed them from its flags.
	Settings [][2]string
	Buckets  []Bucket
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
}
