package node

import (
	"errors"
	"fmt"
	"io/fs"
)

// PortUnspecified is Options.Port and Options.UDPPort when the flag was
// not given.
const PortUnspecified = -1

// Options is everything moxi's command line produces. Fields marked
// "process" are handled by cmd/moxi (logging, pid file, stdin watch) and
// ignored by Node; fields marked "stats only" change nothing but the
// memcached:settings:* lines of "stats proxy settings".
type Options struct {
	ClusterConfig string   // -z, or the trailing URL argument
	Behavior      string   // -Z
	Join          []string // moxi join HOST[:PORT]...: fleet members to join

	Port       int         // -p: built-in memcached server TCP port; PortUnspecified, 0 = any free port
	UDPPort    int         // -U: not supported beyond stats; PortUnspecified when not given
	Socket     string      // -s: unix socket path
	SocketMode fs.FileMode // -a: permissions of the -s socket
	Listen     string      // -l: interface to bind; "" = all
	Protocol   string      // -B: "auto", "ascii" or "binary"
	Backlog    int         // -b: stats only (Go sizes the listen queue itself)

	Threads      int // -t: worker threads (>= 1); reported as -t+1 like the original
	MaxConns     int // -c: client connections open at once, past which memcached's refusal
	ReqsPerEvent int // -R: stats only

	MaxBytes        int64   // -m, in bytes (the flag is in megabytes)
	MaxItemSize     int     // -I, in bytes
	NoEvict         bool    // -M
	LockMemory      bool    // -k: no effect
	GrowthFactor    float64 // -f: stats only
	ChunkSize       int     // -n: stats only
	LargePages      bool    // -L: no effect
	PrefixDelimiter byte    // -D: stats only; also turns on detail_enabled
	DetailEnabled   bool    // set by -D
	NoCAS           bool    // -C: stats only

	Verbosity  int    // -v count (process: log level)
	LogFile    string // -O (process)
	StdinCheck bool   // -Y y (process)
	Daemonize  bool   // -d (process; no effect)
	PIDFile    string // -P (process)
	User       string // -u (process; no effect)
	CoreLimit  bool   // -r (process; no effect)
	Mcmux      bool   // -X: not supported yet

	Version string // reply to "version"
	// Getenv looks up MOXI_SASL_PLAIN_USR, MOXI_SASL_PLAIN_PWD and
	// MEMCACHED_PORT_FILENAME; nil means an empty environment.
	Getenv func(string) string
}

// DefaultOptions returns the memcached 1.4 / moxi defaults.
func DefaultOptions() Options {
	return Options{
		Port:            PortUnspecified,
		UDPPort:         PortUnspecified,
		SocketMode:      0o700,
		Protocol:        "auto",
		Backlog:         1024,
		Threads:         4,
		MaxConns:        1024,
		ReqsPerEvent:    20,
		MaxBytes:        64 << 20,
		MaxItemSize:     1 << 20,
		GrowthFactor:    1.25,
		ChunkSize:       48,
		PrefixDelimiter: ':',
		Version:         "unknown",
	}
}

// Validate checks the values a command line could get wrong. The messages
// name the flag, since they end up as moxi's one-line startup error.
func (o *Options) Validate() error {
	switch {
	case o.Threads < 1:
		return errors.New("-t must be >= 1")
	case o.MaxConns < 1:
		return errors.New("-c must be >= 1")
	case o.ReqsPerEvent < 1:
		return errors.New("-R must be >= 1")
	case o.Backlog < 1:
		return errors.New("-b must be >= 1")
	case o.MaxBytes < 1:
		return errors.New("-m must be >= 1")
	case o.MaxItemSize < 1024:
		return errors.New("-I must be at least 1024 bytes")
	case o.MaxItemSize > 128<<20:
		return errors.New("-I must be at most 128m")
	case o.GrowthFactor <= 1:
		return errors.New("-f must be greater than 1")
	case o.ChunkSize < 1:
		return errors.New("-n must be >= 1")
	case o.Port < PortUnspecified || o.Port > 65535:
		return fmt.Errorf("-p %d out of range", o.Port)
	case o.UDPPort < PortUnspecified || o.UDPPort > 65535:
		return fmt.Errorf("-U %d out of range", o.UDPPort)
	}
	switch o.Protocol {
	case "auto", "ascii", "binary":
	default:
		return fmt.Errorf("-B must be ascii, binary or auto, not %q", o.Protocol)
	}
	return nil
}

// getenv returns o.Getenv or an empty environment.
func (o *Options) getenv(key string) string {
	if o.Getenv == nil {
		return ""
	}
	return o.Getenv(key)
}
