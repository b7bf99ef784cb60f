package node

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/moxifleet/moxi/mapstore"
)

// maxCfgFileDepth bounds -z files that name further files; the original
// recursed without limit, so a file naming itself never returned.
const maxCfgFileDepth = 8

// SectionKind says what a static -z section routes with.
type SectionKind int

const (
	// ServerList is a libmemcached server list, "host:port[:weight],...".
	ServerList SectionKind = iota
	// JSON is an inline vBucket map, "{...}".
	JSON
)

// StaticSection is one "PORT=SERVERS" section of a static -z config.
type StaticSection struct {
	Port    int
	Kind    SectionKind
	Servers []mapstore.Server // Kind == ServerList
	JSON    string            // Kind == JSON: the map, unparsed
	Raw     string            // SERVERS as written (trimmed), for stats proxy config
	NoTLS   bool              // "notls:PORT=...": plain on this port when -Z tls_cert is set, as memcached's -l notls:
}

// ClusterConfig is a parsed -z value: either static sections or a
// REST/agent configuration, never both.
type ClusterConfig struct {
	Static []StaticSection
	REST   *RESTConfig
}

// ParseClusterConfig classifies and parses a -z value the way the
// original's cproxy_init does: a leading '.' or '/' names a file whose
// content is parsed again; a value with '@' or "http://" (or, unlike the
// original, starting with url=, auth= or apikey=) is a REST/agent config;
// anything else is the static form.
func ParseClusterConfig(z string) (*ClusterConfig, error) {
	return parseClusterConfig(z, 0)
}

func parseClusterConfig(z string, depth int) (*ClusterConfig, error) {
	if strings.HasPrefix(z, ".") || strings.HasPrefix(z, "/") {
		if depth >= maxCfgFileDepth {
			return nil, fmt.Errorf("could not read cfg file: %s: too many nested cfg files", z)
		}
		data, err := os.ReadFile(z)
		if err != nil {
			return nil, fmt.Errorf("could not read cfg file: %s: %w", z, pathCause(err))
		}
		if strings.TrimSpace(string(data)) == "" {
			return nil, fmt.Errorf("could not read cfg file: %s: file is empty", z)
		}
		return parseClusterConfig(string(data), depth+1)
	}
	if isRESTConfig(z) {
		rc, err := parseRESTConfig(z)
		if err != nil {
			return nil, err
		}
		return &ClusterConfig{REST: rc}, nil
	}
	if strings.HasPrefix(strings.TrimSpace(z), "https://") {
		// The original sent this to the static parser, which failed with
		// a baffling "bad moxi config, missing =".
		return nil, errors.New("https:// config URLs are not supported; use http://")
	}
	sections, err := parseStatic(z)
	if err != nil {
		return nil, err
	}
	return &ClusterConfig{Static: sections}, nil
}

// isRESTConfig reports whether z is the agent/REST form.
func isRESTConfig(z string) bool {
	t := strings.TrimSpace(z)
	return strings.Contains(z, "@") || strings.Contains(z, "http://") ||
		strings.HasPrefix(t, "url=") || strings.HasPrefix(t, "auth=") ||
		strings.HasPrefix(t, "apikey=")
}

// parseStatic parses "PORT=SERVERS[;PORT=SERVERS...]". Sections that are
// empty or only whitespace (a trailing ';' or newline) are skipped; the
// original died on them with "missing =".
func parseStatic(z string) ([]StaticSection, error) {
	var out []StaticSection
	seen := make(map[int]bool)
	for sect := range strings.SplitSeq(z, ";") {
		if strings.TrimSpace(sect) == "" {
			continue
		}
		s, err := parseStaticSection(sect)
		if err != nil {
			return nil, err
		}
		if seen[s.Port] {
			return nil, fmt.Errorf("proxy port %d is configured twice", s.Port)
		}
		seen[s.Port] = true
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errors.New("empty cluster configuration")
	}
	return out, nil
}

// parseStaticSection parses one "PORT=SERVERS" section, keeping the
// original's error texts.
func parseStaticSection(sect string) (StaticSection, error) {
	portStr, servers, ok := strings.Cut(sect, "=")
	if !ok {
		return StaticSection{}, fmt.Errorf("bad moxi config, missing =: %q", strings.TrimSpace(sect))
	}
	portStr, servers = strings.TrimSpace(portStr), strings.TrimSpace(servers)
	portStr, noTLS := strings.CutPrefix(portStr, "notls:")
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 {
		return StaticSection{}, fmt.Errorf("missing proxy port: %q", portStr)
	}
	if port > 65535 {
		return StaticSection{}, fmt.Errorf("proxy port %d out of range", port)
	}
	s := StaticSection{Port: port, Raw: servers, NoTLS: noTLS}
	if strings.HasPrefix(servers, "{") {
		s.Kind, s.JSON = JSON, servers
		return s, nil
	}
	s.Servers, err = mapstore.ParseServerList(servers)
	if err != nil {
		return StaticSection{}, fmt.Errorf("proxy port %d: %w", port, err)
	}
	return s, nil
}
