package node

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/moxifleet/moxi/cluster"
	"github.com/moxifleet/moxi/internal/tlsconf"
)

// FleetOptions are the -Z keys of fleet mode. They are moxi's own, not
// the original's proxy behaviors, so they are matched by their full
// names only and never show in stats proxy.
type FleetOptions struct {
	Bind        string        // cluster_bind: HOST:PORT for gossip; "" = standalone
	Data        string        // cluster_data
	Join        []string      // cluster_join (A|B) and moxi join's arguments
	RaftPort    int           // cluster_raft_port; 0 = gossip port + 1
	Voters      int           // cluster_voters
	Reap        time.Duration // cluster_reap
	Name        string        // cluster_name
	JoinTimeout time.Duration // cluster_join_timeout
	NodeName    string        // cluster_node
	Admin       string        // admin_listen: HOST:PORT of the admin HTTP server
	Fast        bool          // cluster_fast: loopback timings (tests, benchmarks)
	Pprof       bool          // admin_pprof: Go's /debug/pprof/ on the admin server
	LogFormat   string        // log_format: "text" (key=value lines) or "json"
	// The fleet's security (fleet_security.go): values and file names as
	// given, read and checked by security().
	Key      string        // cluster_key: a base64 gossip key
	KeyFile  string        // cluster_key_file: base64 gossip keys, one a line
	TLS      tlsconf.Files // cluster_tls_cert, cluster_tls_key, cluster_tls_ca
	Insecure bool          // cluster_insecure: allow a non-loopback fleet without them
	// The admin server's access (admin_auth.go): a bearer token file,
	// and/or its own TLS (admin_tls_cert, admin_tls_key, admin_tls_ca).
	AdminTokenFile string
	AdminTLS       tlsconf.Files
}

// DefaultAdminListen is admin_listen's default in fleet mode: loopback.
const DefaultAdminListen = "127.0.0.1:8290"

func defaultFleetOptions() FleetOptions {
	return FleetOptions{Voters: cluster.DefaultVoters, Reap: cluster.DefaultReap,
		Name: cluster.DefaultClusterName, JoinTimeout: cluster.DefaultJoinTimeout, LogFormat: "text"}
}

// fleetKeys returns, for each fleet key, what sets its field from its -Z
// value (a function, so that no table is package-level mutable state).
func fleetKeys() map[string]func(f *FleetOptions, v string) error {
	return map[string]func(f *FleetOptions, v string) error{
		"cluster_bind":      func(f *FleetOptions, v string) error { f.Bind = v; return nil },
		"cluster_data":      func(f *FleetOptions, v string) error { f.Data = v; return nil },
		"cluster_join":      func(f *FleetOptions, v string) error { f.Join = append(f.Join, splitJoin(v)...); return nil },
		"cluster_raft_port": func(f *FleetOptions, v string) error { return setInt(&f.RaftPort, v) },
		"cluster_voters":    func(f *FleetOptions, v string) error { return setInt(&f.Voters, v) },
		"cluster_reap":      func(f *FleetOptions, v string) error { return setDuration(&f.Reap, v) },
		"cluster_name":      func(f *FleetOptions, v string) error { f.Name = v; return nil },
		"cluster_join_timeout": func(f *FleetOptions, v string) error {
			return setDuration(&f.JoinTimeout, v)
		},
		"cluster_node":     func(f *FleetOptions, v string) error { f.NodeName = v; return nil },
		"admin_listen":     func(f *FleetOptions, v string) error { f.Admin = v; return nil },
		"cluster_fast":     func(f *FleetOptions, v string) error { return setBool(&f.Fast, v) },
		"admin_pprof":      func(f *FleetOptions, v string) error { return setBool(&f.Pprof, v) },
		"cluster_key":      func(f *FleetOptions, v string) error { f.Key = v; return nil },
		"cluster_key_file": func(f *FleetOptions, v string) error { f.KeyFile = v; return nil },
		"cluster_tls_cert": func(f *FleetOptions, v string) error { f.TLS.Cert = v; return nil },
		"cluster_tls_key":  func(f *FleetOptions, v string) error { f.TLS.Key = v; return nil },
		"cluster_tls_ca":   func(f *FleetOptions, v string) error { f.TLS.CA = v; return nil },
		"cluster_insecure": func(f *FleetOptions, v string) error { return setBool(&f.Insecure, v) },
		"admin_token_file": func(f *FleetOptions, v string) error { f.AdminTokenFile = v; return nil },
		"admin_tls_cert":   func(f *FleetOptions, v string) error { f.AdminTLS.Cert = v; return nil },
		"admin_tls_key":    func(f *FleetOptions, v string) error { f.AdminTLS.Key = v; return nil },
		"admin_tls_ca":     func(f *FleetOptions, v string) error { f.AdminTLS.CA = v; return nil },
		"log_format": func(f *FleetOptions, v string) error {
			if v != "text" && v != "json" {
				return errors.New("want text or json")
			}
			f.LogFormat = v
			return nil
		},
	}
}

// splitFleetKeys takes the fleet keys out of a -Z string, returning them
// and the rest for ParseBehavior.
func splitFleetKeys(z string) (FleetOptions, string, error) {
	f := defaultFleetOptions()
	rest, err := splitOwnKeys(z, fleetKeys(), &f)
	return f, rest, err
}

// splitOwnKeys takes one group of moxi's own -Z keys (matched by full
// name, unlike the original's behaviors) out of z into dst, and returns
// the rest for the next group or ParseBehavior.
func splitOwnKeys[T any](z string, keys map[string]func(*T, string) error, dst *T) (string, error) {
	var rest []string
	for item := range strings.SplitSeq(z, ",") {
		key, val, _ := strings.Cut(strings.TrimSpace(item), "=")
		set, ok := keys[strings.TrimSpace(key)]
		if !ok {
			rest = append(rest, item)
			continue
		}
		if err := set(dst, strings.TrimSpace(val)); err != nil {
			return "", fmt.Errorf("-Z: config error in key: %s value: %s (%w)", key, val, err)
		}
	}
	return strings.Join(rest, ","), nil
}

// splitJoin splits a cluster_join value, A|B.
func splitJoin(v string) []string {
	var out []string
	for a := range strings.SplitSeq(v, "|") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func setInt(p *int, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("not a number")
	}
	*p = n
	return nil
}

// setDuration takes a Go duration ("72h", "30s") or milliseconds, as
// moxi's other times are.
func setDuration(p *time.Duration, v string) error {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 {
		*p = time.Duration(ms) * time.Millisecond
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("not a duration such as 30s or 72h")
	}
	*p = d
	return nil
}

// clusterConfig turns the fleet options into the cluster's Config.
func (f FleetOptions) clusterConfig() cluster.Config {
	c := cluster.DefaultConfig()
	c.BindAddr, c.RaftPort, c.DataDir, c.Name = f.Bind, f.RaftPort, f.Data, f.Name
	c.NodeName, c.Join, c.JoinTimeout = f.NodeName, f.Join, f.JoinTimeout
	c.Voters, c.Reap, c.Fast = f.Voters, f.Reap, f.Fast
	c.Admin = f.Admin
	if c.Admin == "" {
		c.Admin = DefaultAdminListen // what startAdmin binds; it corrects a port 0 once bound
	}
	return c
}

// LogFormat is -Z log_format ("text" unless set), read before anything
// else so that the process's logger can be built first; a bad value is
// the same one-line error node.New gives.
func LogFormat(z string) (string, error) {
	f, _, err := fleetOptions(z)
	return f.LogFormat, err
}

// fleetOptions splits the fleet keys out of -Z, reading a -Z file first.
func fleetOptions(z string) (FleetOptions, string, error) {
	if strings.HasPrefix(z, ".") || strings.HasPrefix(z, "/") {
		data, err := os.ReadFile(z)
		if err != nil {
			return defaultFleetOptions(), "", fmt.Errorf("-Z: could not read behavior file: %s: %w", z, pathCause(err))
		}
		z = string(data)
	}
	return splitFleetKeys(z)
}

func setBool(dst *bool, v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("not true or false: %w", err)
	}
	*dst = b
	return nil
}
